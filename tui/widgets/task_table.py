"""The board's table: one row per task, filtered and sorted, updated in place as tasks change.

Columns give way to the terminal's width, least important first; the title takes what is left."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from textual import events
from textual.reactive import reactive
from textual.widgets import DataTable
from textual.widgets.data_table import CellDoesNotExist, RowDoesNotExist

from engine.views import TaskRecord
from tui.widgets.task_filter import TaskFilter
from tui.widgets.task_row import REPO_WIDTH, TITLE_WIDTH, Price, RowColours, TaskRow


@dataclass(frozen=True)
class Column:
    """A column of the table; the lower its `rank`, the longer it stays as the board narrows."""

    key: str
    label: str
    width: int
    rank: float


COLUMNS = (
    Column("title", "Task", TITLE_WIDTH, 0),
    Column("repo", "Repo@ref", REPO_WIDTH, 3.5),
    Column("host", "Host", 5, 6),
    Column("mode", "Mode", 4, 7),
    Column("status", "Status", 18, 1),
    Column("tokens", "Tokens in/out", 13, 3),
    Column("cost", "Cost", 6, 3.8),
    Column("diff", "Diff", 10, 2),
    Column("evidence", "Evidence", 14, 2.2),
    Column("age", "Age", 5, 9),
)
SORT_ORDERS = ("created", "status", "title")
SORTED_COLUMN = {"created": "age", "status": "status", "title": "title"}
"""The column each order sorts by; its label carries SORT_MARK, and it stays while it sorts."""
SORT_MARK = " ▼"
MIN_TITLE_WIDTH = 22
TITLE_ROOM = Column("title-room", "", 6, 4)
"""The title's width beyond its least: worth more than the repository and what follows."""
CELL_PADDING = 2
"""A DataTable cell's padding, one on each side."""


SORTED_RANK = 2.5
"""Where the sorted column ranks, when it ranks lower: after the status and the diff."""


def rank(column: Column, sorted_by: str) -> float:
    return min(column.rank, SORTED_RANK) if column.key == sorted_by else column.rank


def fitting_columns(width: int, sorted_by: str, priced: bool = True) -> list[Column]:
    """The columns that fit in `width` cells, in table order: most important first, the sorted
    one right after the status and the diff (Cost only when prices are set); the title gets
    the room left, up to twice its width."""
    chosen: list[Column] = []
    room = width - MIN_TITLE_WIDTH - CELL_PADDING
    candidates = [c for c in (*COLUMNS[1:], TITLE_ROOM) if priced or c.key != "cost"]
    for column in sorted(candidates, key=lambda column: rank(column, sorted_by)):
        needed = column.width + (0 if column is TITLE_ROOM else CELL_PADDING)
        if needed <= room:
            chosen.append(column)
            room -= needed
    title = COLUMNS[0]
    extra = TITLE_ROOM.width if TITLE_ROOM in chosen else 0
    title_width = min(MIN_TITLE_WIDTH + extra + room, 2 * title.width)
    return [Column(title.key, title.label, title_width, title.rank)] + [
        column for column in COLUMNS if column in chosen
    ]


class TaskTable(DataTable[object]):
    """Tasks as rows keyed by task id; `row_order` and `task_filter` choose what shows."""

    row_order: reactive[str] = reactive("created")
    task_filter: reactive[TaskFilter] = reactive(TaskFilter, always_update=True)

    def __init__(
        self,
        clock: Callable[[], float] = time.time,
        price: Price = lambda _input, _output: None,
        **kwargs: object,
    ) -> None:
        super().__init__(cursor_type="row", zebra_stripes=False, **kwargs)  # type: ignore[arg-type]
        self.clock = clock
        self.price = price
        self.rows_by_id: dict[str, TaskRow] = {}
        self.shown_columns: list[Column] = list(COLUMNS)

    def on_mount(self) -> None:
        self.watch(self.app, "theme", lambda _: self.rebuild(), init=False)

    def on_resize(self, event: events.Resize) -> None:
        self.lay_out_columns(event.size.width)

    def lay_out_columns(self, width: int) -> None:
        """Show the columns that fit `width`, the sorted one marked, and lay the rows out."""
        sorted_by = SORTED_COLUMN[self.row_order]
        columns = fitting_columns(width, sorted_by, self.price(1, 1) is not None)
        if columns == self.shown_columns and self.columns:
            return
        self.shown_columns = columns
        self.clear(columns=True)
        for column in columns:
            mark = SORT_MARK if column.key == sorted_by else ""
            self.add_column(column.label + mark, key=column.key, width=column.width)
        self.rebuild()

    def colours(self) -> RowColours:
        variables = self.app.theme_variables
        return RowColours(
            success=variables["success"], warning=variables["warning"], error=variables["error"]
        )

    @property
    def visible_ids(self) -> list[str]:
        return [str(row.key.value) for row in self.ordered_rows]

    @property
    def selected_task_id(self) -> str | None:
        if not self.row_count:
            return None
        try:
            key = self.coordinate_to_cell_key(self.cursor_coordinate).row_key
        except CellDoesNotExist:
            return None
        return str(key.value)

    def set_tasks(self, records: Iterable[TaskRecord]) -> None:
        self.rows_by_id = {record.id: TaskRow(record) for record in records}
        for group in {row.record.group for row in self.rows_by_id.values()}:
            self.regroup(group)
        self.rebuild()

    def regroup(self, group: str) -> list[TaskRow]:
        """Count the attempts of one request on the board into their rows; those rows."""
        rows = [row for row in self.rows_by_id.values() if row.record.group == group]
        first_created = min((row.record.created for row in rows), default=0.0)
        for row in rows:
            row.group_size, row.group_created = len(rows), first_created
        return rows

    def upsert(self, record: TaskRecord) -> None:
        """Add a task or refresh its row from a newer record."""
        row = self.rows_by_id.get(record.id)
        if row is None:
            self.rows_by_id[record.id] = TaskRow(record)
            self.regroup(record.group)
            self.rebuild()
            return
        old = row.record
        row.update(record)
        if old.archived != record.archived or (
            old.status != record.status and (self.row_order == "status" or self.task_filter)
        ):
            self.rebuild()
        else:
            self.show_row(row)

    def add_usage(self, task_id: str, input_tokens: int, output_tokens: int) -> None:
        row = self.rows_by_id.get(task_id)
        if row is None:
            return
        row.live_input_tokens += input_tokens
        row.live_output_tokens += output_tokens
        self.show_row(row)

    def tick(self) -> None:
        """Advance spinners and elapsed times of active tasks."""
        if not self.is_shown("status"):
            return
        now, colours = self.clock(), self.colours()
        for row in self.rows_by_id.values():
            if row.is_active:
                self._update_cell(row.id, "status", row.status_cell(now, colours))

    def refresh_ages(self) -> None:
        """Bring the Age column up to the clock."""
        if not self.is_shown("age"):
            return
        now = self.clock()
        for task_id in self.visible_ids:
            self._update_cell(task_id, "age", self.rows_by_id[task_id].age_cell(now))

    def is_shown(self, key: str) -> bool:
        return any(column.key == key for column in self.shown_columns)

    def show_row(self, row: TaskRow) -> None:
        cells = row.cells(self.clock(), self.colours(), self.price, self.title_width)
        for column in self.shown_columns:
            self._update_cell(row.id, column.key, cells[column.key])

    @property
    def title_width(self) -> int:
        return self.shown_columns[0].width

    def _update_cell(self, task_id: str, column: str, value: object) -> None:
        try:
            self.update_cell(task_id, column, value)
        except (CellDoesNotExist, RowDoesNotExist):
            return

    def watch_row_order(self) -> None:
        self.shown_columns = []
        self.lay_out_columns(self.size.width)

    def watch_task_filter(self) -> None:
        self.rebuild()

    def rebuild(self) -> None:
        """Lay the rows out again, keeping the cursor on the same task."""
        if not self.columns:
            return
        selected = self.selected_task_id
        rows = [row for row in self.rows_by_id.values() if self.task_filter.matches(row)]
        rows.sort(key=lambda row: row.sort_key(self.row_order))
        now, colours, width = self.clock(), self.colours(), self.title_width
        self.clear()
        for row in rows:
            cells = row.cells(now, colours, self.price, width)
            self.add_row(*(cells[column.key] for column in self.shown_columns), key=row.id)
        if selected in self.rows_by_id and selected in self.visible_ids:
            self.move_cursor(row=self.get_row_index(selected))
