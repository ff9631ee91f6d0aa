"""The board's table: one row per task, filtered and sorted, updated in place as tasks change."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable

from textual.reactive import reactive
from textual.widgets import DataTable
from textual.widgets.data_table import CellDoesNotExist, RowDoesNotExist

from engine.record.views import TaskRecord
from tui.widgets.task_filter import TaskFilter
from tui.widgets.task_row import REPO_WIDTH, TITLE_WIDTH, Price, RowColours, TaskRow

COLUMNS = (
    ("title", "Task", TITLE_WIDTH),
    ("repo", "Repo@ref", REPO_WIDTH),
    ("host", "Host", 5),
    ("mode", "Mode", 4),
    ("status", "Status", 18),
    ("tokens", "Tokens", 11),
    ("cost", "Cost", 6),
    ("diff", "Diff", 10),
)
SORT_ORDERS = ("created", "status", "title")


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

    def on_mount(self) -> None:
        for key, label, width in COLUMNS:
            self.add_column(label, key=key, width=width)
        self.watch(self.app, "theme", lambda _: self.rebuild(), init=False)

    def colours(self) -> RowColours:
        variables = self.app.theme_variables
        return RowColours(success=variables["success"], error=variables["error"])

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
        now, colours = self.clock(), self.colours()
        for row in self.rows_by_id.values():
            if row.is_active:
                self._update_cell(row.id, "status", row.status_cell(now, colours))

    def show_row(self, row: TaskRow) -> None:
        cells = row.cells(self.clock(), self.colours(), self.price)
        for (key, _label, _width), value in zip(COLUMNS, cells, strict=True):
            self._update_cell(row.id, key, value)

    def _update_cell(self, task_id: str, column: str, value: object) -> None:
        try:
            self.update_cell(task_id, column, value)
        except (CellDoesNotExist, RowDoesNotExist):
            return

    def watch_row_order(self) -> None:
        self.rebuild()

    def watch_task_filter(self) -> None:
        self.rebuild()

    def rebuild(self) -> None:
        """Lay the rows out again, keeping the cursor on the same task."""
        if not self.columns:
            return
        selected = self.selected_task_id
        rows = [row for row in self.rows_by_id.values() if self.task_filter.matches(row)]
        rows.sort(key=lambda row: row.sort_key(self.row_order))
        now, colours = self.clock(), self.colours()
        self.clear()
        for row in rows:
            self.add_row(*row.cells(now, colours, self.price), key=row.id)
        if selected in self.rows_by_id and selected in self.visible_ids:
            self.move_cursor(row=self.get_row_index(selected))
