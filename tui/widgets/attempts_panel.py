"""The attempts of a best-of-N task side by side, best first by evidence; enter opens one."""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.content import Content
from textual.message import Message
from textual.widgets import DataTable, Label, Static
from textual.widgets.data_table import CellDoesNotExist

from engine.views import RankedAttempt
from tui.present import plain
from tui.widgets.task_row import NO_VALUE, format_count

COLUMNS = (
    ("rank", "Rank", 5),
    ("attempt", "Attempt", 8),
    ("task", "Task", 9),
    ("status", "Status", 10),
    ("checks", "Checks", 16),
    ("diff", "Diff", 10),
    ("files", "Files", 5),
    ("tokens", "Tokens", 7),
    ("cost", "Cost", 8),
    ("host", "Host", 10),
)
TITLE = "Attempts, best first: checks passing, then a smaller diff, then a lower cost"
HINT = "enter opens the attempt's tab"


class AttemptChosen(Message):
    """The person chose an attempt to look at."""

    def __init__(self, task_id: str) -> None:
        super().__init__()
        self.task_id = task_id


class AttemptsPanel(Vertical):
    """A ranked table of the attempts and why the highlighted one ranks where it does."""

    def __init__(self, task_id: str, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.task_id = task_id
        self.ranked: dict[str, RankedAttempt] = {}

    @property
    def table(self) -> DataTable[object]:
        return self.query_one(".attempts-table", DataTable)

    def compose(self) -> ComposeResult:
        yield Label(TITLE, classes="section-title")
        yield DataTable(cursor_type="row", classes="attempts-table")
        yield Static("", classes="attempt-reasons")
        yield Static(HINT, classes="attempts-hint")

    def show(self, ranked: list[RankedAttempt]) -> None:
        """Redraw from a fresh ranking, keeping the cursor on the same attempt."""
        table = self.table
        if not table.columns:
            for key, label, width in COLUMNS:
                table.add_column(label, key=key, width=width)
        selected = self.selected_task_id() or self.task_id
        self.ranked = {entry.record.id: entry for entry in ranked}
        table.clear()
        for entry in ranked:
            table.add_row(*self.cells(entry), key=entry.record.id)
        if selected in self.ranked:
            table.move_cursor(row=table.get_row_index(selected))

    def selected_task_id(self) -> str | None:
        try:
            row_key, _ = self.table.coordinate_to_cell_key(self.table.cursor_coordinate)
        except CellDoesNotExist:
            return None
        return str(row_key.value)

    def cells(self, entry: RankedAttempt) -> list[Text]:
        """One row; rich Text throughout, so nothing from a task is read as markup."""
        colours = self.app.theme_variables
        success, error = colours["success"], colours["error"]
        record = entry.record
        this = "▸ " if record.id == self.task_id else "  "
        checks_style = {True: success, False: error}.get(entry.evidence.checks_pass, "dim")
        return [
            Text(f"{this}{entry.rank}"),
            Text(str(record.attempt)),
            Text(record.id),
            Text(record.status),
            Text(entry.checks_counts, style=checks_style),
            Text.assemble(
                (f"+{entry.lines_added}", success), " ", (f"-{entry.lines_removed}", error)
            ),
            Text(str(entry.files_changed)),
            Text(format_count(entry.tokens)),
            Text(NO_VALUE if entry.cost is None else f"${entry.cost:.4f}"),
            Text(plain(record.host) or NO_VALUE),
        ]

    @on(DataTable.RowHighlighted, ".attempts-table")
    def attempt_highlighted(self, highlighted: DataTable.RowHighlighted) -> None:
        entry = self.ranked.get(str(highlighted.row_key.value))
        if entry is None:
            return
        reasons = " · ".join(entry.reasons)
        warning = entry.evidence.warning
        self.query_one(".attempt-reasons", Static).update(
            Content.assemble(
                (f"Attempt {entry.record.attempt} ({entry.record.id}): ", "bold"),
                plain(reasons),
                ("\n" + plain(warning), "$warning") if warning else "",
            )
        )

    @on(DataTable.RowSelected, ".attempts-table")
    def attempt_selected(self, selected: DataTable.RowSelected) -> None:
        selected.stop()
        self.post_message(AttemptChosen(str(selected.row_key.value)))
