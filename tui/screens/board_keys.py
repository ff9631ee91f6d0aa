"""Every key of the board screen, each a Binding with an id for keymap overrides."""

from __future__ import annotations

from textual.binding import Binding

BOARD_ONLY = frozenset({"open_task", "sort"})
"""Actions of the Board tab, hidden in task tabs."""
TASK_TAB_ONLY = frozenset({"toggle_result", "close_tab", "compare", "send_back", "edit_accept"})
"""Actions of task tabs, hidden on the Board tab."""
CHOOSER_ONLY = frozenset({"send_back", "edit_accept"})
"""Actions of a task tab's result while its changes are listed to choose from."""

ACTIONS = [
    Binding(
        "n",
        "new_task",
        "New task",
        id="new_task",
        tooltip="Compose and start a new task",
        priority=True,
    ),
    Binding("enter", "open_task", "Open", id="open_task", tooltip="Open the task in a tab"),
    Binding(
        "a",
        "accept",
        "Accept",
        id="accept",
        tooltip="Accept the chosen changes: to a branch, or onto the working tree",
    ),
    Binding(
        "e",
        "edit_accept",
        "Edit+accept",
        id="edit_accept",
        tooltip="Edit the chosen changes in $EDITOR, then accept them",
    ),
    Binding(
        "R",
        "send_back",
        "Send back",
        id="send_back",
        tooltip="Send the changes left out back to the agent as a follow-up",
    ),
    Binding(
        "f",
        "follow_up",
        "Follow-up",
        id="follow_up",
        tooltip="Ask for more, in the same sandbox and branch",
        priority=True,
    ),
    Binding(
        "p",
        "pull_request",
        "PR",
        id="pull_request",
        tooltip="Push the task's branch and open or update its pull request",
    ),
    Binding("x", "cancel_task", "Cancel", id="cancel_task", tooltip="Cancel the running task"),
    Binding("r", "retry", "Retry", id="retry", tooltip="Run the same task again as a new task"),
    Binding(
        "d",
        "archive",
        "Archive",
        id="archive",
        tooltip="Hide the task from the board (is:archived shows it; d there brings it back)",
    ),
    Binding(
        "u",
        "undo_archive",
        "Undo archive",
        id="undo_archive",
        tooltip="Bring back the task archived last",
        show=False,
    ),
    Binding(
        "slash",
        "filter",
        "Filter",
        id="filter",
        tooltip="Filter by words and status:NAME",
        key_display="/",
    ),
    Binding("s", "sort", "Sort", id="sort", tooltip="Sort by created, status or title", show=False),
    Binding("question_mark", "help", "Keys", id="help", tooltip="Show every key", key_display="?"),
    Binding(
        "q",
        "quit_board",
        "Quit",
        id="quit",
        tooltip="Close the board; running tasks keep running in the service",
    ),
]
"""Actions on tasks and the board: in the footer, the command palette and the help screen.

`n` and `f` are priority bindings so the app awaits their dialog before it forwards the next key:
what is typed right after them lands in the dialog's prompt. Text fields still get both letters,
because Textual drops bindings for keys the focused widget consumes.
"""

NAVIGATION = [
    Binding(
        "t",
        "toggle_result",
        "Log/Result",
        id="toggle_result",
        tooltip="In a task tab: switch between its log and its result",
    ),
    Binding(
        "c",
        "compare",
        "Attempts",
        id="compare",
        tooltip="In a best-of-N task's tab: its attempts, ranked by evidence",
    ),
    Binding(
        "w", "close_tab", "Close tab", id="close_tab", tooltip="Close the task's tab", show=False
    ),
    Binding(
        "left_square_bracket",
        "previous_tab",
        "Previous tab",
        id="previous_tab",
        tooltip="The tab to the left",
        key_display="[",
        show=False,
    ),
    Binding(
        "right_square_bracket",
        "next_tab",
        "Next tab",
        id="next_tab",
        tooltip="The tab to the right",
        key_display="]",
        show=False,
    ),
    Binding(
        "escape",
        "escape",
        "Back",
        id="escape",
        tooltip="Close the filter, or go back to the board",
        show=False,
    ),
]
"""Moving between the board and task tabs."""
