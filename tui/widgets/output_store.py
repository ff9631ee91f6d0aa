"""The text side of OutputLog: lines split, cleaned, buffered and stored with few objects."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator

from rich.cells import cell_len

from tui.present import plain

BLOCK_LINES = 256
"""Lines joined into one string in a LineStore, so the garbage collector sees few objects."""

SPLIT_BLOCKS_KEPT = 4
"""Blocks kept split into lines for reading: enough for the lines on screen."""


def split_complete(data: str) -> tuple[str, int, str]:
    """Split data into its complete lines, their count and the unterminated rest.

    LF, CRLF and a lone CR end a line; the complete lines come back joined by LF, without a
    final one. A CR at the very end stays in the rest: it may be the first half of a CRLF.
    """
    held = ""
    if data.endswith("\r"):
        data, held = data[:-1], "\r"
    data = data.replace("\r\n", "\n").replace("\r", "\n")
    cut = data.rfind("\n")
    if cut < 0:
        return "", 0, data + held
    complete = data[:cut]
    return complete, complete.count("\n") + 1, data[cut + 1 :] + held


def clean_line(line: str) -> str:
    """The line without terminal control sequences or control characters, tabs expanded."""
    if line.isprintable():
        return line
    return plain(line).expandtabs()


def widest(lines: list[str]) -> int:
    """The width in terminal cells of the widest line."""
    if not lines:
        return 0
    if all(map(str.isascii, lines)):
        return max(map(len, lines))
    return max(map(cell_len, lines))


class LineStore:
    """Lines kept in blocks of BLOCK_LINES joined lines; old lines are dropped from the front."""

    def __init__(self) -> None:
        self._blocks: list[str] = []
        self._tail: list[str] = []
        self._skipped = 0
        self._first_block = 0
        self._split_blocks: dict[int, list[str]] = {}

    def __len__(self) -> int:
        return len(self._blocks) * BLOCK_LINES + len(self._tail) - self._skipped

    def __getitem__(self, index: int) -> str:
        if not -len(self) <= index < len(self):
            raise IndexError(index)
        position = self._skipped + index % len(self)
        block, offset = divmod(position, BLOCK_LINES)
        if block < len(self._blocks):
            return self._block_lines(block)[offset]
        return self._tail[position - len(self._blocks) * BLOCK_LINES]

    def __iter__(self) -> Iterator[str]:
        return (self[index] for index in range(len(self)))

    @property
    def first_line_number(self) -> int:
        """How many lines were dropped from the front: the number of line 0 since the start."""
        return self._first_block * BLOCK_LINES + self._skipped

    def extend(self, lines: list[str]) -> None:
        """Add lines at the end."""
        start = 0
        while start < len(lines):
            room = BLOCK_LINES - len(self._tail)
            self._tail.extend(lines[start : start + room])
            start += room
            if len(self._tail) == BLOCK_LINES:
                self._blocks.append("\n".join(self._tail))
                self._tail = []

    def keep_last(self, count: int) -> int:
        """Drop lines from the front until at most count remain; return how many were dropped."""
        dropped = max(0, len(self) - count)
        self._skipped += dropped
        whole_blocks = min(self._skipped // BLOCK_LINES, len(self._blocks))
        if whole_blocks:
            del self._blocks[:whole_blocks]
            self._first_block += whole_blocks
            self._skipped -= whole_blocks * BLOCK_LINES
        return dropped

    def clear(self) -> None:
        """Drop every line and start numbering again from 0."""
        self._blocks, self._tail = [], []
        self._skipped = self._first_block = 0
        self._split_blocks.clear()

    def _block_lines(self, block: int) -> list[str]:
        number = self._first_block + block
        lines = self._split_blocks.get(number)
        if lines is None:
            if len(self._split_blocks) >= SPLIT_BLOCKS_KEPT:
                del self._split_blocks[next(iter(self._split_blocks))]
            lines = self._split_blocks[number] = self._blocks[block].split("\n")
        return lines


class PendingOutput:
    """Complete lines waiting to be written, in chunks; only the last max_lines are kept."""

    def __init__(self, max_lines: int) -> None:
        self.max_lines = max_lines
        self._chunks: deque[str] = deque()
        self._counts: deque[int] = deque()
        self._total = 0

    def __len__(self) -> int:
        return min(self._total, self.max_lines)

    def add(self, text: str, count: int) -> None:
        """Add count lines joined by LF, then drop whole chunks no longer needed."""
        if count > self.max_lines:
            text, count = text.split("\n", count - self.max_lines)[-1], self.max_lines
        self._chunks.append(text)
        self._counts.append(count)
        self._total += count
        while self._total - self._counts[0] >= self.max_lines:
            self._chunks.popleft()
            self._total -= self._counts.popleft()

    def take(self) -> list[str]:
        """Remove and return the last max_lines lines."""
        lines = "\n".join(self._chunks).split("\n")[-self.max_lines :]
        self.clear()
        return lines

    def clear(self) -> None:
        """Drop every buffered line."""
        self._chunks.clear()
        self._counts.clear()
        self._total = 0
