"""What clients hold of a result's diff: its files and hunks, as `engine.diff.patchset` parses
them and renders them back exactly."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from engine.errors import EngineError

_KINDS = (
    ("new file mode ", "new"),
    ("deleted file mode ", "deleted"),
    ("rename from ", "renamed"),
    ("copy from ", "copied"),
)


class DiffFormatError(EngineError):
    """The text is not a patch this parser can take apart exactly."""


@dataclass(frozen=True)
class Hunk:
    """One `@@` hunk: where it starts in the old file and its lines with their prefixes."""

    old_start: int
    section: str
    """What follows the closing `@@`: usually the enclosing function's line."""
    lines: tuple[str, ...]

    @property
    def old_count(self) -> int:
        return sum(1 for line in self.lines if line[:1] in (" ", "-"))

    @property
    def new_count(self) -> int:
        return sum(1 for line in self.lines if line[:1] in (" ", "+"))

    @property
    def added(self) -> int:
        return sum(1 for line in self.lines if line.startswith("+"))

    @property
    def removed(self) -> int:
        return sum(1 for line in self.lines if line.startswith("-"))

    def header(self, offset: int = 0) -> str:
        """The `@@` line, its new side shifted by `offset` lines of earlier kept hunks."""
        old_begin = self.old_start if self.old_count else self.old_start + 1
        new_begin = old_begin + offset
        new_start = new_begin if self.new_count else new_begin - 1
        old = _range(self.old_start, self.old_count)
        return f"@@ -{old} +{_range(new_start, self.new_count)} @@{self.section}"

    def postimage(self) -> str:
        """The hunk's new side as text, honouring `\\ No newline at end of file`."""
        text = ""
        for line in self.lines:
            if line.startswith("\\"):
                text = text.removesuffix("\n")
            elif line[:1] in (" ", "+"):
                text += line[1:] + "\n"
        return text


@dataclass(frozen=True)
class FileDiff:
    """One file's part of a patch: its header lines, then hunks or a binary patch."""

    header: tuple[str, ...]
    """The `diff --git` line and the extended header lines, `---`/`+++` included."""
    hunks: tuple[Hunk, ...]
    binary: tuple[str, ...]
    """The `GIT binary patch` block, when the file is binary."""
    old_path: str | None
    """The path before the change; None for a new file."""
    new_path: str | None
    """The path after the change; None for a deleted file."""
    old_mode: str | None
    new_mode: str | None
    names: tuple[str, ...]
    """Every path the header mentions, however it mentions it."""

    @property
    def path(self) -> str:
        """The file's name in the result (its old name when it is deleted)."""
        return self.new_path or self.old_path or ""

    @property
    def kind(self) -> str:
        """modified, new, deleted, renamed, copied, binary or mode change."""
        for prefix, kind in _KINDS:
            if mentions(self.header, prefix):
                return kind
        if self.binary or mentions(self.header, "Binary files "):
            return "binary"
        return "mode change" if self.old_mode != self.new_mode else "modified"

    @property
    def whole_only(self) -> bool:
        """Whether the file can only be taken whole: anything but hunks of a modified file."""
        return self.kind != "modified" or not self.hunks

    def with_hunks(self, numbers: Iterable[int]) -> FileDiff:
        """The same file with only the hunks numbered (from 1) in `numbers`."""
        keep = set(numbers)
        hunks = tuple(hunk for number, hunk in enumerate(self.hunks, 1) if number in keep)
        return FileDiff(
            self.header,
            hunks,
            self.binary,
            self.old_path,
            self.new_path,
            self.old_mode,
            self.new_mode,
            self.names,
        )


def _range(start: int, count: int) -> str:
    return str(start) if count == 1 else f"{start},{count}"


def mentions(header: Sequence[str], prefix: str) -> bool:
    """Whether an extended header line starts with `prefix`."""
    return any(line.startswith(prefix) for line in header[1:])
