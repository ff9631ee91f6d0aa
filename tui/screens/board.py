"""The board screen: the task table in a Board tab, one tab per opened task, every action key."""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, cast

from textual import on
from textual.app import ComposeResult
from textual.content import Content
from textual.message import Message
from textual.reactive import reactive
from textual.widgets import DataTable, Input, Static, TabbedContent, TabPane

from engine.errors import EngineError
from engine.service.client import ServiceClient
from engine.views import REVIEWABLE, TaskRecord, TaskStatus
from engine.views.events import Event, FollowUpStarted, TaskArchived, TurnUsage
from tui.bridge import OutputBatch
from tui.screens.accept_dialogs import AcceptScreen, ConfirmUnsafeScreen
from tui.screens.board_keys import (
    ACTIONS,
    BOARD_ONLY,
    CHOOSER_ONLY,
    NAVIGATION,
    TASK_TAB_ONLY,
)
from tui.screens.composer import ComposerDefaults, ComposerScreen
from tui.screens.confirm import ConfirmScreen
from tui.screens.edit_accept import EditAcceptActions
from tui.screens.follow_up import FollowUpScreen
from tui.screens.help import HelpScreen
from tui.screens.log_view import LogScreen
from tui.screens.task_actions import pull_request_applies
from tui.widgets.attempts_panel import AttemptChosen
from tui.widgets.board_header import BoardHeader
from tui.widgets.hunk_chooser import HunkChooser
from tui.widgets.key_hints import KeyHints
from tui.widgets.log_request import OPEN_LOG, LogWanted
from tui.widgets.task_filter import TaskFilter
from tui.widgets.task_row import shorten, task_title
from tui.widgets.task_table import SORT_ORDERS, TaskTable
from tui.widgets.task_view import Arrival, TaskView, read_history

if TYPE_CHECKING:
    from tui.app import TaskyardApp

BOARD_TAB = "board"
TICK_SECONDS = 0.125
AGE_SECONDS = 30.0
HOST_POLL_SECONDS = 1.0
TAB_TITLE_WIDTH = 24
STATUS_MARKS = {
    **dict.fromkeys(REVIEWABLE, "✓"),
    TaskStatus.FAILED: "✗",
    TaskStatus.CANCELLED: "■",
}
DIALOG_KEYS = [
    ("Choosing changes", HunkChooser.BINDINGS),
    ("Full log", [OPEN_LOG, *LogScreen.BINDINGS]),
    ("Accept", AcceptScreen.BINDINGS),
    ("Unsafe result", ConfirmUnsafeScreen.BINDINGS),
    ("New task", ComposerScreen.BINDINGS),
    ("Follow-up", FollowUpScreen.BINDINGS),
    ("Confirming", ConfirmScreen.BINDINGS),
]


TASK_PANE_PREFIX = "task-"


def pane_id(task_id: str) -> str:
    return f"{TASK_PANE_PREFIX}{task_id}"


class HostStatesRead(Message):
    """The hosts' states as the service knows them, read when they changed."""

    def __init__(self, states: dict[str, str]) -> None:
        super().__init__()
        self.states = states


def tab_label(record: TaskRecord) -> Content:
    mark = STATUS_MARKS.get(record.status, "…")
    return Content(f"{mark} {record.id} {shorten(task_title(record.prompt), TAB_TITLE_WIDTH)}")


class BoardScreen(EditAcceptActions):
    """Tasks, live; `@on` handlers and the event routing below own every widget's state."""

    CSS_PATH = "../styles/board.tcss"
    BINDINGS = ACTIONS + NAVIGATION

    filtering: reactive[bool] = reactive(False, toggle_class="-filtering")
    empty: reactive[bool] = reactive(True, toggle_class="-empty")

    def __init__(self) -> None:
        super().__init__()
        self.composer_defaults: ComposerDefaults | None = None
        self.views: dict[str, TaskView] = {}
        self.opening: dict[str, list[Arrival]] = {}
        self.initial_tasks: list[TaskRecord] = []
        self.host_states: dict[str, str] = {}
        self.archived_here: list[str] = []
        """The tasks archived on this board, last last: what `u` brings back."""

    @property
    def taskyard(self) -> TaskyardApp:
        return cast("TaskyardApp", self.app)

    @property
    def client(self) -> ServiceClient:
        return self.taskyard.client

    def load(self, tasks: list[TaskRecord], host_states: dict[str, str]) -> None:
        """What the board shows when it mounts, read from the service before."""
        self.initial_tasks = tasks
        self.host_states = host_states

    @property
    def table(self) -> TaskTable:
        return self.query_one(TaskTable)

    @property
    def tabs(self) -> TabbedContent:
        return self.query_one("#tabs", TabbedContent)

    def compose(self) -> ComposeResult:
        yield BoardHeader(id="board-header")
        with TabbedContent(id="tabs", initial=BOARD_TAB), TabPane("Board", id=BOARD_TAB):
            yield Input(
                placeholder="filter: words, status:running,failed, is:archived", id="filter"
            )
            price = self.taskyard.config.model_client.cost
            yield TaskTable(clock=self.taskyard.clock, price=price, id="tasks")
            yield Static("No tasks yet. Press n to start one.", id="empty-board")
        yield KeyHints(id="key-hints")

    def on_mount(self) -> None:
        self.table.set_tasks(self.initial_tasks)
        self.rows_changed()
        self.set_interval(TICK_SECONDS, self.tick_table)
        self.set_interval(AGE_SECONDS, self.age_table)
        self.set_interval(HOST_POLL_SECONDS, self.poll_hosts)
        self.run_worker(self.reach_hosts(), name="reach-hosts", group="hosts")
        self.table.focus()

    def tick_table(self) -> None:
        """Advance the table's spinners and elapsed times while the Board tab shows it: a
        hidden widget that repaints makes Textual lay the whole screen out again."""
        if self.tabs.active == BOARD_TAB:
            self.table.tick()

    def age_table(self) -> None:
        """Bring the Age column up to the clock, while the Board tab shows it."""
        if self.tabs.active == BOARD_TAB:
            self.table.refresh_ages()

    async def reach_hosts(self) -> None:
        """Have the service reach every host once, so the header shows their state."""
        with contextlib.suppress(EngineError):
            await self.client.host_statuses()

    def poll_hosts(self) -> None:
        self.run_worker(self.read_host_states(), group="host-poll", exclusive=True)

    async def read_host_states(self) -> None:
        """Post the hosts' states when they changed."""
        try:
            states = await self.client.host_states()
        except EngineError:
            return
        if states != self.host_states:
            self.post_message(HostStatesRead(states))

    @on(HostStatesRead)
    def host_states_read(self, read: HostStatesRead) -> None:
        self.host_states = read.states
        self.rows_changed()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Board-only and task-tab-only keys leave the footer where they do not apply; so do
        sending back and editing (but in a result whose changes are listed) and cancelling
        (there)."""
        on_board = self.tabs.active == BOARD_TAB
        if action in BOARD_ONLY:
            return on_board
        if action == "compare":
            view = self.active_view()
            return view is not None and view.has_attempts
        if action in TASK_TAB_ONLY:
            return not on_board and (action not in CHOOSER_ONLY or self.choosing())
        if action == "pull_request":
            return self.pull_request_available()
        if action == "cancel_task":
            return not self.choosing()
        return True

    def choosing(self) -> bool:
        """Whether a task tab shows its result with the changes listed to choose from."""
        view = self.active_view()
        return self.active_chooser() is not None and view is not None and view.showing_result

    def pull_request_available(self) -> bool:
        """Whether the current task has a result that can become a pull request (asked for
        the footer after every key: query_one stops at the table, a query walks every tab)."""
        if self.query_one_optional(TaskTable) is None:
            return False
        task_id = self.current_task_id()
        record = self.known_record(task_id) if task_id is not None else None
        return record is not None and pull_request_applies(record)

    def rows_changed(self) -> None:
        shown = [row for row in self.table.rows_by_id.values() if not row.record.archived]
        self.empty = not shown
        header = self.query_one(BoardHeader)
        header.show(str(self.taskyard.repo), shown, self.host_states, demo=self.taskyard.demo)

    def task_view(self, task_id: str) -> TaskView | None:
        return self.views.get(task_id)

    def active_view(self) -> TaskView | None:
        active = self.tabs.active
        return (
            self.views.get(active.removeprefix(TASK_PANE_PREFIX)) if active != BOARD_TAB else None
        )

    def active_chooser(self) -> HunkChooser | None:
        """The chooser of the task tab shown, once it lists the result's changes."""
        view = self.active_view()
        chooser = view.result.chooser if view is not None and view.is_mounted else None
        return chooser if chooser is not None and chooser.files else None

    def current_task_id(self) -> str | None:
        """The task in the active tab, or the one under the cursor on the board."""
        view = self.active_view()
        return view.task_id if view is not None else self.table.selected_task_id

    def known_record(self, task_id: str) -> TaskRecord | None:
        """The task's latest record on the board: its tab's, or its row's."""
        view = self.task_view(task_id)
        if view is not None:
            return view.record
        row = self.table.rows_by_id.get(task_id)
        return row.record if row is not None else None

    def active_tasks(self) -> int:
        """How many tasks on the board are queued or running."""
        return sum(row.is_active for row in self.table.rows_by_id.values())

    def show_record(self, record: TaskRecord) -> None:
        """Bring the task's row, its tab's label and its group's attempts up to date."""
        self.table.upsert(record)
        self.rows_changed()
        view = self.task_view(record.id)
        if view is not None and view.is_mounted:
            self.tabs.get_tab(pane_id(record.id)).label = tab_label(record)
        for view in self.views.values():
            if view.has_attempts and view.record.group == record.group:
                view.refresh_attempts()
        self.refresh_bindings()

    def apply_event(self, event: Event, record: TaskRecord | None = None) -> None:
        """Bring the row and the task's tab, when open, up to date with one event and the
        record read after it (None when it did not change the record)."""
        if isinstance(event, TaskArchived) and event.archived:
            self.close_task_tab(event.task_id)
        row = self.table.rows_by_id.get(event.task_id)
        if isinstance(event, FollowUpStarted) and row is not None:
            row.begin_turns()
        if record is not None:
            self.show_record(record)
        else:
            record = self.known_record(event.task_id)
        if isinstance(event, TurnUsage):
            self.table.add_usage(event.task_id, event.input_tokens, event.output_tokens)
        if event.task_id in self.opening:
            self.opening[event.task_id].append((event, record))
        view = self.task_view(event.task_id)
        if view is not None:
            view.apply_event(event, record)

    def apply_output(self, batch: OutputBatch) -> None:
        """Command output for the task's tab, when one is open."""
        if batch.task_id in self.opening:
            self.opening[batch.task_id].append(batch.pieces)
        view = self.task_view(batch.task_id)
        if view is not None:
            view.apply_output(batch.pieces)

    async def action_new_task(self) -> None:
        """Open the composer, returning once it is mounted and its prompt has focus."""
        defaults = self.composer_defaults or ComposerDefaults(repo=str(self.taskyard.repo))
        try:
            environments = await self.client.environments()
        except EngineError as error:
            self.notify(str(error), severity="error", markup=False)
            return
        hosts = list(self.host_states)
        composer = ComposerScreen(
            defaults, environments, hosts, self.taskyard.start_task, self.client.uncommitted
        )
        await self.app.push_screen(composer, self.task_started)

    def task_started(self, attempts: list[TaskRecord] | None) -> None:
        if not attempts:
            return
        record = attempts[0]
        mode = "ask" if record.mode == "ask" else "code"
        self.composer_defaults = ComposerDefaults(
            record.repo, record.ref or "", record.environment, mode
        )
        for attempt in attempts:
            self.show_record(attempt)
        self.tabs.active = BOARD_TAB
        self.table.move_cursor(row=self.table.get_row_index(record.id))
        several = f" ({len(attempts)} attempts)" if len(attempts) > 1 else ""
        self.notify(f"Started task {record.id}{several}", markup=False)

    async def action_open_task(self) -> None:
        task_id = self.table.selected_task_id
        if task_id is not None and self.tabs.active == BOARD_TAB:
            await self.open_task(task_id)

    @on(DataTable.RowHighlighted, "#tasks")
    def row_highlighted(self) -> None:
        """Keys that depend on the task (p) follow the cursor."""
        self.refresh_bindings()

    @on(DataTable.RowSelected, "#tasks")
    async def row_selected(self, selected: DataTable.RowSelected) -> None:
        await self.open_task(str(selected.row_key.value))

    async def open_task(self, task_id: str) -> None:
        """Show the task's tab, opening it with the whole loop so far if needed; what arrives
        while that is read is applied after it."""
        if task_id not in self.views and task_id not in self.opening:
            self.opening[task_id] = []
            try:
                history = await read_history(self.client, task_id)
            except EngineError as error:
                self.notify(str(error), severity="error", markup=False)
                return
            finally:
                arrived = self.opening.pop(task_id)
            view = TaskView(self.client, history, arrived)
            self.views[task_id] = view
            label = tab_label(history.record)
            await self.tabs.add_pane(TabPane(label, view, id=pane_id(task_id)))
        if task_id in self.views:
            self.tabs.active = pane_id(task_id)

    def action_close_tab(self) -> None:
        view = self.active_view()
        if view is not None:
            self.close_task_tab(view.task_id)

    def close_task_tab(self, task_id: str) -> None:
        if self.views.pop(task_id, None) is not None:
            self.tabs.active = BOARD_TAB
            self.tabs.remove_pane(pane_id(task_id))

    def action_previous_tab(self) -> None:
        self.move_tab(-1)

    def action_next_tab(self) -> None:
        self.move_tab(1)

    def move_tab(self, step: int) -> None:
        panes = self.tabs.query_one("ContentSwitcher").children
        ids = [pane.id for pane in panes if pane.id]
        index = ids.index(self.tabs.active) if self.tabs.active in ids else 0
        self.tabs.active = ids[(index + step) % len(ids)]

    def action_toggle_result(self) -> None:
        view = self.active_view()
        if view is not None:
            view.toggle_result()
            self.refresh_bindings()

    def action_compare(self) -> None:
        view = self.active_view()
        if view is not None and view.has_attempts:
            view.show_attempts()

    @on(AttemptChosen)
    async def attempt_chosen(self, chosen: AttemptChosen) -> None:
        await self.open_task(chosen.task_id)

    def action_escape(self) -> None:
        if self.filtering:
            self.close_filter()
        elif self.tabs.active != BOARD_TAB:
            self.tabs.active = BOARD_TAB

    def task_archived(self, record: TaskRecord) -> None:
        """Show the task as archived (or back) at once, before its event arrives."""
        if record.archived:
            self.close_task_tab(record.id)
        self.show_record(record)

    @on(TabbedContent.TabActivated, "#tabs")
    def tab_activated(self) -> None:
        """Keys go to what the new tab shows."""
        self.refresh_bindings()
        view = self.active_view()
        if view is not None:
            if view.loaded_at is not None:
                view.focus_pane()
            return
        self.table.tick()
        board = self.query_one(f"#{BOARD_TAB}", TabPane)
        if self.focused is None or board not in self.focused.ancestors:
            self.table.focus()

    def action_filter(self) -> None:
        self.tabs.active = BOARD_TAB
        self.filtering = True
        self.query_one("#filter", Input).focus()

    @on(Input.Changed, "#filter")
    def filter_changed(self, changed: Input.Changed) -> None:
        self.table.task_filter = TaskFilter.parse(changed.value)

    @on(Input.Submitted, "#filter")
    def filter_submitted(self) -> None:
        self.table.focus()

    def close_filter(self) -> None:
        self.query_one("#filter", Input).value = ""
        self.filtering = False
        self.table.focus()

    def action_sort(self) -> None:
        table = self.table
        orders = SORT_ORDERS
        table.row_order = orders[(orders.index(table.row_order) + 1) % len(orders)]
        self.notify(f"Sorted by {table.row_order}")

    def action_help(self) -> None:
        sections = [("Board and tasks", ACTIONS), ("Tabs", NAVIGATION), *DIALOG_KEYS]
        self.app.push_screen(HelpScreen(sections, self.taskyard.keymap))

    @on(LogWanted)
    def log_wanted(self, wanted: LogWanted) -> None:
        """`o` on a command or a check in the task tab shown: its whole output on a screen."""
        view = self.active_view()
        if view is None:
            return
        chunk_id, read = wanted.chunk_id, view.read_output
        screen = LogScreen(view.task_id, chunk_id, wanted.title, lambda: read(chunk_id))
        self.app.push_screen(screen)
