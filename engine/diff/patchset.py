"""A unified git diff split into files and hunks, and put back together exactly.

Hunk line counts are recomputed from the hunk's lines (as `git apply --recount` does), so a
hand-edited patch needs no counting; `render_patch` writes the counts and the new-side starts
that match the hunks actually kept. What is rendered is exactly what was parsed: a line the
parser does not understand is an error, never passed through.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from engine.diff.headers import (
    EXTENDED_HEADERS,
    GIT_HEADER,
    header_fields,
    header_names,
    mentions,
    old_and_new,
)
from engine.errors import EngineError

BINARY_PATCH = "GIT binary patch"
SYMLINK_MODE = "120000"
_HUNK_HEADER = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@(.*)$")
_BODY_PREFIXES = (" ", "+", "-", "\\")
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


def split_lines(text: str) -> list[str]:
    """Lines split on newlines only: a carriage return or form feed is content."""
    lines = text.split("\n")
    return lines[:-1] if lines and lines[-1] == "" else lines


def parse_patch(text: str) -> list[FileDiff]:
    """The files of a unified git diff, in order; DiffFormatError names a line it cannot read."""
    lines = split_lines(text)
    files: list[FileDiff] = []
    index = 0
    while index < len(lines):
        if not lines[index].strip():
            index += 1
            continue
        if not lines[index].startswith(GIT_HEADER):
            raise _unexpected(lines, index, "a `diff --git` line")
        parsed, index = _parse_file(lines, index)
        files.append(parsed)
    return files


def _unexpected(lines: Sequence[str], index: int, expected: str) -> DiffFormatError:
    shown = lines[index] if len(lines[index]) <= 60 else lines[index][:59] + "…"
    return DiffFormatError(f"line {index + 1} of the patch should be {expected}: {shown!r}")


def _parse_file(lines: Sequence[str], index: int) -> tuple[FileDiff, int]:
    header = [lines[index]]
    index += 1
    while index < len(lines) and lines[index].startswith(EXTENDED_HEADERS):
        header.append(lines[index])
        index += 1
    binary: list[str] = []
    if index < len(lines) and lines[index] == BINARY_PATCH:
        while index < len(lines) and not lines[index].startswith(GIT_HEADER):
            binary.append(lines[index])
            index += 1
    hunks: list[Hunk] = []
    while index < len(lines) and lines[index].startswith("@@"):
        hunk, index = _parse_hunk(lines, index)
        hunks.append(hunk)
    if index < len(lines) and lines[index].strip() and not lines[index].startswith(GIT_HEADER):
        raise _unexpected(lines, index, "a hunk line or a `diff --git` line")
    return _file_diff(header, hunks, binary), index


def _parse_hunk(lines: Sequence[str], index: int) -> tuple[Hunk, int]:
    match = _HUNK_HEADER.match(lines[index])
    if match is None:
        raise _unexpected(lines, index, "a hunk header like `@@ -1,3 +1,4 @@`")
    start = index
    index += 1
    body: list[str] = []
    while index < len(lines) and (lines[index].startswith(_BODY_PREFIXES) or not lines[index]):
        body.append(lines[index] or " ")
        index += 1
    while body and body[-1] == " " and not lines[start + len(body)]:
        body.pop()
    if not body or body[0].startswith("\\"):
        raise _unexpected(lines, start, "a hunk with at least one line")
    return Hunk(int(match[1]), match[5], tuple(body)), index


def _file_diff(header: list[str], hunks: list[Hunk], binary: list[str]) -> FileDiff:
    fields = header_fields(header)
    names = [name for name in header_names(header[0]) if name]
    old_path, new_path = old_and_new(header, fields, names)
    names += [name for name in (old_path, new_path) if name]
    old_mode = fields.get("old mode") or fields.get("deleted file mode") or fields.get("index mode")
    new_mode = fields.get("new mode") or fields.get("new file mode") or fields.get("index mode")
    return FileDiff(
        tuple(header),
        tuple(hunks),
        tuple(binary),
        old_path,
        new_path,
        old_mode,
        new_mode,
        tuple(dict.fromkeys(names)),
    )


def render_patch(files: Iterable[FileDiff]) -> str:
    """The patch text of `files`, each hunk's counts and new-side start recomputed."""
    out: list[str] = []
    for file in files:
        out += file.header
        out += file.binary
        offset = 0
        for hunk in file.hunks:
            out.append(hunk.header(offset))
            out += hunk.lines
            offset += hunk.new_count - hunk.old_count
    return "".join(line + "\n" for line in out)


def touched_paths(files: Iterable[FileDiff]) -> list[str]:
    """Every path the patch reads or writes, in order, without repeats."""
    paths = (path for file in files for path in (file.old_path, file.new_path) if path)
    return list(dict.fromkeys(paths))
