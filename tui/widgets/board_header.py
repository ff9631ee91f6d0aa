"""The line above the board: the repository and how many tasks are in each state."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from rich.text import Text
from textual.widgets import Static

from tui.widgets.task_row import TaskRow

SHOWN_COUNTS = ("active", "ready", "failed")


class BoardHeader(Static):
    """`taskyard · REPO · 2 active · 1 ready`."""

    def show(self, repo: str, rows: Iterable[TaskRow]) -> None:
        counts: Counter[str] = Counter()
        for row in rows:
            counts["active" if row.is_active else row.record.status] += 1
        parts = [f"{counts[name]} {name}" for name in SHOWN_COUNTS if counts[name]]
        text = Text.assemble(("taskyard", "bold"), "  ", repo)
        if parts:
            text.append("  ·  " + " · ".join(parts), style="dim")
        self.update(text)
