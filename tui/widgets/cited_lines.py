"""The lines a citation points at: from a command's stored output, or from the task's diff."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from textual.content import Content

from tui.present import plain, reveal

HUNK_HEADER = re.compile(r"^@@ -\d+(?:,\d+)? \+(?P<start>\d+)(?:,(?P<count>\d+))? @@")
LINE_STYLES = {"+": "$success", "-": "$error"}


@dataclass(frozen=True)
class DiffLine:
    """A line of a hunk: its number in the new file (None for removed lines)."""

    number: int | None
    sign: str
    text: str


@dataclass(frozen=True)
class Hunk:
    header: str
    start: int
    count: int
    lines: list[DiffLine]

    def overlaps(self, start: int, end: int) -> bool:
        return self.start <= end and start <= self.start + max(self.count, 1) - 1


def citation_label(citation: dict[str, Any]) -> str:
    """`✓ file calc.py L1-L2`, `✗ output 1a2b L3 (unknown chunk)`."""
    mark = "✓" if citation.get("valid") else "✗"
    kind = "file" if citation["kind"] == "file" else "output"
    start, end = citation["start"], citation["end"]
    span = f"L{start}" if start == end else f"L{start}-L{end}"
    reason = "" if citation.get("valid") else f" ({citation.get('reason', 'invalid')})"
    return plain(f"{mark} {kind} {citation['target']} {span}{reason}")


def file_section(diff: str, path: str) -> list[str] | None:
    """The diff's lines for one file, or None when the diff does not touch it."""
    section: list[str] | None = None
    for line in diff.splitlines():
        if line.startswith("diff --git "):
            if section is not None:
                return section
            if line.endswith(f" b/{path}"):
                section = []
        elif section is not None:
            section.append(line)
    return section


def hunks(section: list[str]) -> list[Hunk]:
    """The hunks of one file's diff, with new-file line numbers."""
    found: list[Hunk] = []
    number = 0
    for line in section:
        match = HUNK_HEADER.match(line)
        if match:
            number = int(match["start"])
            count = int(match["count"]) if match["count"] is not None else 1
            found.append(Hunk(line, number, count, []))
        elif found and line[:1] in (" ", "+", "-"):
            new_line = line[:1] != "-"
            found[-1].lines.append(DiffLine(number if new_line else None, line[:1], line[1:]))
            number += new_line
    return found


def numbered(number: int | None, text: str, style: str) -> Content:
    gutter = f"{number:>5} │ " if number is not None else "      │ "
    return Content.assemble((gutter, "dim"), (reveal(text), style))


def text_lines(text: str, start: int, end: int) -> Content:
    """Lines start..end (1-based, inclusive) of a command's output or a file, numbered."""
    lines = text.splitlines()
    shown = [
        numbered(number, lines[number - 1], "") for number in range(start, min(end, len(lines)) + 1)
    ]
    if not shown:
        return Content.styled(f"There are only {len(lines)} lines.", "$text-muted")
    return Content("\n").join(shown)


def hunk_lines(section: list[str], start: int, end: int) -> Content | None:
    """The hunks of one file's diff section that hold lines start..end, cited lines in bold;
    None when no hunk holds them."""
    held = [hunk for hunk in hunks(section) if hunk.overlaps(start, end)]
    return hunks_content(held, start, end) if held else None


def change_lines(section: list[str]) -> Content:
    """Every hunk of one file's diff section, numbered; the section as it is when it has no
    hunk (a binary file, a rename, a mode change)."""
    found = hunks(section)
    if not found:
        return Content.styled("\n".join(reveal(line) for line in section), "$text-muted")
    return hunks_content(found, 0, -1)


def hunks_content(found: list[Hunk], start: int, end: int) -> Content:
    """The hunks' headers and lines, added and removed in colour, lines start..end in bold."""
    shown: list[Content] = []
    for hunk in found:
        shown.append(Content.styled(reveal(hunk.header), "dim"))
        for line in hunk.lines:
            style = LINE_STYLES.get(line.sign, "")
            if line.number is not None and start <= line.number <= end:
                style = f"{style} bold".strip()
            shown.append(numbered(line.number, f"{line.sign}{line.text}", style))
    return Content("\n").join(shown)
