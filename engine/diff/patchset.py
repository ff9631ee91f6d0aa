"""A unified git diff split into files and hunks, and put back together exactly.

Hunk line counts are recomputed from the hunk's lines (as `git apply --recount` does), so a
hand-edited patch needs no counting; `render_patch` writes the counts and the new-side starts
that match the hunks actually kept. What is rendered is exactly what was parsed: a line the
parser does not understand is an error, never passed through.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from engine.diff.headers import (
    EXTENDED_HEADERS,
    GIT_HEADER,
    header_fields,
    header_names,
    old_and_new,
)
from engine.views.diff import DiffFormatError, FileDiff, Hunk

BINARY_PATCH = "GIT binary patch"
SYMLINK_MODE = "120000"
_HUNK_HEADER = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@(.*)$")
_BODY_PREFIXES = (" ", "+", "-", "\\")


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
