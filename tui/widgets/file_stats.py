"""The files a task changed, each with its added and removed line counts: a list to walk,
whose highlighted file shows its change."""

from __future__ import annotations

from typing import Any

from textual.content import Content
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from engine.views import FileStat, diff_stat
from tui.present import plain


def file_label(stat: FileStat) -> Content:
    """`+3 -1    calc.py`, or `binary   logo.png`."""
    if stat.binary:
        counts = Content.styled(f"{'binary':<9}", "dim")
    else:
        counts = Content.assemble(
            (f"+{stat.added}", "$success"),
            " ",
            (f"-{stat.removed}", "$error"),
            " " * max(1, 8 - len(f"+{stat.added} -{stat.removed}")),
        )
    return Content.assemble(counts, " ", plain(stat.path))


def no_files_reason(mode: str) -> Content:
    reason = "Ask mode: the repository is not changed." if mode == "ask" else "No changes."
    return Content.styled(reason, "$text-muted")


class FileStats(OptionList):
    """One option per changed file with its +/- counts, or why there are none (then it takes
    no focus)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.paths: list[str] = []

    @property
    def focusable(self) -> bool:
        return bool(self.paths) and super().focusable

    def show(self, diff: str, mode: str) -> None:
        stats = diff_stat(diff)
        self.paths = [stat.path for stat in stats]
        self.clear_options()
        if not stats:
            self.add_option(Option(no_files_reason(mode), disabled=True))
            return
        self.add_options(Option(file_label(stat)) for stat in stats)

    def on_focus(self) -> None:
        """Coming to the list highlights its first file."""
        if self.highlighted is None and self.paths:
            self.highlighted = 0

    def path_at(self, index: int) -> str:
        return self.paths[index]
