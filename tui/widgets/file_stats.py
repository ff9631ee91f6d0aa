"""The files a task changed, each with its added and removed line counts."""

from __future__ import annotations

from textual.content import Content
from textual.widgets import Static

from engine.views.diffstat import diff_stat
from tui.present import plain


def file_stats_content(diff: str, mode: str) -> Content:
    """`+3 -1  calc.py` per file, or why there is nothing to list."""
    stats = diff_stat(diff)
    if not stats:
        reason = "Ask mode: the repository is not changed." if mode == "ask" else "No changes."
        return Content.styled(reason, "$text-muted")
    lines = []
    for stat in stats:
        if stat.binary:
            counts = Content.styled(f"{'binary':<9}", "dim")
        else:
            counts = Content.assemble(
                (f"+{stat.added}", "$success"),
                " ",
                (f"-{stat.removed}", "$error"),
                " " * max(1, 8 - len(f"+{stat.added} -{stat.removed}")),
            )
        lines.append(Content.assemble(counts, " ", plain(stat.path)))
    return Content("\n").join(lines)


class FileStats(Static):
    """Files with +/- counts."""

    def show(self, diff: str, mode: str) -> None:
        self.update(file_stats_content(diff, mode))
