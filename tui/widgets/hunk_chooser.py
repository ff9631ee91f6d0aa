"""The result's files and hunks, each chosen or not: what `a` accepts and `R` sends back."""

from __future__ import annotations

from typing import ClassVar

from textual.binding import Binding, BindingType
from textual.content import Content
from textual.message import Message
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from engine.views import Choice, FileDiff, Hunk
from tui.present import reveal

Key = tuple[str, int]
"""(path, hunk number from 1); a file taken only whole has the one key (path, 0)."""


def shown(text: str) -> str:
    """Task text made safe for the screen: no control sequences, no undecodable bytes."""
    readable = text.encode("utf-8", "surrogateescape").decode("utf-8", errors="replace")
    return reveal(readable)


def file_keys(file: FileDiff) -> list[Key]:
    if file.whole_only:
        return [(file.path, 0)]
    return [(file.path, number) for number in range(1, len(file.hunks) + 1)]


def counts(added: int, removed: int) -> Content:
    return Content.assemble((f"+{added}", "$success"), " ", (f"-{removed}", "$error"))


def hunk_content(file: FileDiff, hunk: Hunk | None) -> Content:
    """A hunk's lines (every hunk of the file when None), added green, removed red."""
    hunks = file.hunks if hunk is None else (hunk,)
    if not hunks:
        return Content.styled(f"{shown(file.path)}: {file.kind}, taken whole", "$text-muted")
    styles = {"+": "$success", "-": "$error"}
    lines = [
        Content.styled(shown(line), styles.get(line[:1], "")) for h in hunks for line in h.lines
    ]
    return Content("\n").join(lines)


class HunkChooser(OptionList):
    """Files and their hunks with a mark each; `space` chooses or leaves out the highlighted
    hunk, or every hunk of the highlighted file. Everything starts chosen."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "space",
            "toggle",
            "Choose",
            id="toggle_hunk",
            tooltip="Choose the hunk (or the whole file) for accepting, or leave it out",
        ),
    ]

    class Toggled(Message):
        """The choice changed."""

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.files: list[FileDiff] = []
        self.chosen: set[Key] = set()
        self.option_keys: list[list[Key]] = []
        self.option_hunks: list[tuple[FileDiff, Hunk | None, int]] = []

    def show_files(self, files: list[FileDiff]) -> None:
        """List `files`, all chosen."""
        self.files = files
        self.chosen = {key for file in files for key in file_keys(file)}
        self.option_keys, self.option_hunks = [], []
        for file in files:
            self.option_keys.append(file_keys(file))
            self.option_hunks.append((file, None, 0))
            if not file.whole_only:
                for number, hunk in enumerate(file.hunks, 1):
                    self.option_keys.append([(file.path, number)])
                    self.option_hunks.append((file, hunk, number))
        self.redraw()
        if self.option_count:
            self.highlighted = 0

    def redraw(self) -> None:
        highlighted = self.highlighted
        self.set_options([Option(self.label(index)) for index in range(len(self.option_keys))])
        if highlighted is not None and highlighted < self.option_count:
            self.highlighted = highlighted

    def mark(self, keys: list[Key]) -> str:
        taken = sum(1 for key in keys if key in self.chosen)
        return "[x]" if taken == len(keys) else "[ ]" if taken == 0 else "[-]"

    def label(self, index: int) -> Content:
        file, hunk, number = self.option_hunks[index]
        mark = self.mark(self.option_keys[index])
        if hunk is None:
            kind = "" if file.kind == "modified" else f"  {file.kind}"
            return Content.assemble((mark, "bold"), " ", shown(file.path), (kind, "dim"))
        return Content.assemble(
            "  ",
            (mark, "bold"),
            f" {number}. line {hunk.old_start}  ",
            counts(hunk.added, hunk.removed),
            (f"  {shown(hunk.section.strip())}", "dim"),
        )

    def hunk_at(self, index: int) -> tuple[FileDiff, Hunk | None, int]:
        return self.option_hunks[index]

    def action_toggle(self) -> None:
        if self.highlighted is None:
            return
        keys = self.option_keys[self.highlighted]
        if all(key in self.chosen for key in keys):
            self.chosen.difference_update(keys)
        else:
            self.chosen.update(keys)
        self.redraw()
        self.post_message(self.Toggled())

    def choice(self, chosen: bool = True) -> Choice | None:
        """The chosen part (or, with chosen=False, the part left out) as a Choice: Choice()
        when that is everything, None when it is nothing."""
        keys = (
            self.chosen if chosen else {k for f in self.files for k in file_keys(f)} - self.chosen
        )
        if not keys:
            return None
        paths: list[str] = []
        hunks: list[Key] = []
        for file in self.files:
            wanted = [key for key in file_keys(file) if key in keys]
            if len(wanted) == len(file_keys(file)):
                paths.append(file.path)
            else:
                hunks += wanted
        if len(paths) == len(self.files):
            return Choice()
        return Choice(tuple(paths), tuple(hunks))

    def summary(self) -> str:
        """`3 of 8 changes in 2 files`, or `the whole result`."""
        every = [key for file in self.files for key in file_keys(file)]
        taken = [key for key in every if key in self.chosen]
        if len(taken) == len(every):
            return "the whole result"
        files = len({path for path, _ in taken})
        return f"{len(taken)} of {len(every)} changes in {files} file{'s' * (files != 1)}"
