"""The board screen: the task table in a Board tab, one tab per opened task, every action key."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.reactive import reactive
from textual.widgets import DataTable, Footer, Input, Static, TabbedContent, TabPane

from engine.api import Engine
from engine.events import (
    Event,
    FollowUpStarted,
    TaskFinished,
    TaskQueued,
    TaskStatusChanged,
    TurnUsage,
)
from engine.store import TaskRecord
from tui.bridge import OutputBatch
from tui.screens.composer import ComposerDefaults, ComposerScreen
from tui.screens.follow_up import FollowUpScreen
from tui.screens.help import HelpScreen
from tui.screens.task_actions import TaskActions, TaskChanged
from tui.widgets.board_header import BoardHeader
from tui.widgets.task_filter import TaskFilter
from tui.widgets.task_table import SORT_ORDERS, TaskTable

if TYPE_CHECKING:
    from tui.app import TaskyardApp

BOARD_TAB = "board"
TICK_SECONDS = 0.125
RECORD_EVENTS = (TaskQueued, TaskStatusChanged, FollowUpStarted, TaskFinished)

ACTIONS = [
    Binding("n", "new_task", "New task", id="new_task", tooltip="Compose and start a new task"),
    Binding(
        "a",
        "accept",
        "Accept",
        id="accept",
        tooltip="Bring the task's commits home as a new local branch",
    ),
    Binding(
        "f",
        "follow_up",
        "Follow-up",
        id="follow_up",
        tooltip="Ask for more, in the same sandbox and branch",
    ),
    Binding(
        "p",
        "pull_request",
        "PR",
        id="pull_request",
        tooltip="Open a pull request (not available yet)",
    ),
    Binding("x", "cancel_task", "Cancel", id="cancel_task", tooltip="Cancel the running task"),
    Binding("r", "retry", "Retry", id="retry", tooltip="Run the same task again as a new task"),
    Binding("d", "archive", "Archive", id="archive", tooltip="Hide the task from the board"),
    Binding(
        "slash",
        "filter",
        "Filter",
        id="filter",
        tooltip="Filter by words and status:NAME",
        key_display="/",
    ),
    Binding("s", "sort", "Sort", id="sort", tooltip="Sort by created, status or title"),
    Binding("question_mark", "help", "Keys", id="help", tooltip="Show every key", key_display="?"),
    Binding("q", "quit_board", "Quit", id="quit", tooltip="Quit taskyard"),
]
NAVIGATION = [
    Binding("escape", "escape", "Back", id="escape", tooltip="Close the filter", show=False),
]


DIALOG_KEYS = [
    ("New task", ComposerScreen.BINDINGS),
    ("Follow-up", FollowUpScreen.BINDINGS),
]


class BoardScreen(TaskActions):
    """Tasks, live; `@on` handlers and the event routing below own every widget's state."""

    CSS_PATH = "../styles/board.tcss"
    BINDINGS = ACTIONS + NAVIGATION

    filtering: reactive[bool] = reactive(False, toggle_class="-filtering")
    empty: reactive[bool] = reactive(True, toggle_class="-empty")

    def __init__(self) -> None:
        super().__init__()
        self.composer_defaults: ComposerDefaults | None = None

    @property
    def taskyard(self) -> TaskyardApp:
        return cast("TaskyardApp", self.app)

    @property
    def engine(self) -> Engine:
        return self.taskyard.engine

    @property
    def table(self) -> TaskTable:
        return self.query_one(TaskTable)

    def compose(self) -> ComposeResult:
        yield BoardHeader(id="board-header")
        with TabbedContent(id="tabs", initial=BOARD_TAB), TabPane("Board", id=BOARD_TAB):
            yield Input(placeholder="filter: words, status:running,failed", id="filter")
            yield TaskTable(clock=self.taskyard.clock, id="tasks")
            yield Static("No tasks yet. Press n to start one.", id="empty-board")
        yield Footer()

    def on_mount(self) -> None:
        self.table.set_tasks(self.engine.tasks())
        self.rows_changed()
        self.set_interval(TICK_SECONDS, self.table.tick)
        self.table.focus()

    def rows_changed(self) -> None:
        self.empty = not self.table.rows_by_id
        self.query_one(BoardHeader).show(str(self.taskyard.repo), self.table.rows_by_id.values())

    def current_task_id(self) -> str | None:
        """The task in the active tab, or the one under the cursor on the board."""
        return self.table.selected_task_id

    def refresh_task(self, task_id: str) -> TaskRecord:
        record = self.engine.task(task_id)
        self.table.upsert(record)
        self.rows_changed()
        return record

    def apply_event(self, event: Event) -> None:
        """Bring the row (and the task's tab, when open) up to date with one event."""
        if isinstance(event, RECORD_EVENTS):
            if isinstance(event, FollowUpStarted) and event.task_id in self.table.rows_by_id:
                self.table.rows_by_id[event.task_id].begin_turns()
            self.refresh_task(event.task_id)
        elif isinstance(event, TurnUsage):
            self.table.add_usage(event.task_id, event.input_tokens, event.output_tokens)

    def apply_output(self, batch: OutputBatch) -> None:
        """Command output for the task's tab, when one is open."""

    def action_new_task(self) -> None:
        defaults = self.composer_defaults or ComposerDefaults(repo=str(self.taskyard.repo))
        composer = ComposerScreen(defaults, self.engine.environments(), self.taskyard.start_task)
        self.app.push_screen(composer, self.task_started)

    def task_started(self, record: TaskRecord | None) -> None:
        if record is None:
            return
        mode = "ask" if record.mode == "ask" else "code"
        self.composer_defaults = ComposerDefaults(
            record.repo, record.ref or "", record.environment, mode
        )
        self.refresh_task(record.id)
        self.table.move_cursor(row=self.table.get_row_index(record.id))
        self.notify(f"Started task {record.id}", markup=False)

    def action_filter(self) -> None:
        self.filtering = True
        self.query_one("#filter", Input).focus()

    @on(Input.Changed, "#filter")
    def filter_changed(self, changed: Input.Changed) -> None:
        self.table.task_filter = TaskFilter.parse(changed.value)

    @on(Input.Submitted, "#filter")
    def filter_submitted(self) -> None:
        self.table.focus()

    def close_filter(self) -> None:
        filter_input = self.query_one("#filter", Input)
        filter_input.value = ""
        self.filtering = False
        self.table.focus()

    def action_sort(self) -> None:
        table = self.table
        table.row_order = SORT_ORDERS[(SORT_ORDERS.index(table.row_order) + 1) % len(SORT_ORDERS)]
        self.notify(f"Sorted by {table.row_order}")

    def action_escape(self) -> None:
        if self.filtering:
            self.close_filter()

    def action_help(self) -> None:
        sections = [("Board and tasks", ACTIONS), ("Navigation", NAVIGATION), *DIALOG_KEYS]
        self.app.push_screen(HelpScreen(sections, self.taskyard.keymap))

    def task_archived(self, task_id: str) -> None:
        self.table.remove_task(task_id)
        self.rows_changed()

    @on(TaskChanged)
    def task_changed(self, changed: TaskChanged) -> None:
        self.refresh_task(changed.task_id)

    @on(TabbedContent.TabActivated, "#tabs")
    def tab_activated(self) -> None:
        self.refresh_bindings()

    @on(DataTable.RowHighlighted)
    def row_highlighted(self) -> None:
        self.refresh_bindings()
