"""Record a command's output: everything to its log file, head and tail for the model."""

from __future__ import annotations

import codecs
import os
from collections import deque
from pathlib import Path
from typing import BinaryIO

from engine.views.sanitize import strip_terminal_controls


class _Line:
    """A line being received, keeping only its start and end when it is very long."""

    def __init__(self, cap: int) -> None:
        self.cap = cap
        self.start = ""
        self.end = ""
        self.length = 0

    def add(self, text: str) -> None:
        self.length += len(text)
        if len(self.start) < self.cap:
            take = self.cap - len(self.start)
            self.start += text[:take]
            text = text[take:]
        if text:
            self.end = (self.end + text)[-self.cap :]

    def render(self) -> str:
        hidden = self.length - len(self.start) - len(self.end)
        if hidden <= 0:
            return self.start + self.end
        return f"{self.start}[… {hidden} characters elided …]{self.end}"


class OutputRecorder:
    """Streams output to a log file; keeps the first and last lines for the model's view.

    With `rewrite`, the output is written again over the log file from its start: the bytes it
    holds already stay in place while they are written again, and only what goes beyond them
    is passed on for display. The file is never left shorter than it was.
    """

    def __init__(
        self,
        log_path: Path,
        head_lines: int,
        tail_lines: int,
        line_cap: int = 1000,
        rewrite: bool = False,
    ):
        log_path.parent.mkdir(parents=True, exist_ok=True)
        self.log_path = log_path
        self.shown = log_path.stat().st_size if rewrite and log_path.exists() else 0
        """Bytes of output shown before: the log file's size when it is rewritten."""
        self._file: BinaryIO = log_path.open("r+b" if self.shown else "wb")
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._fresh_decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._head_lines = head_lines
        self._head: list[str] = []
        self._tail: deque[str] = deque(maxlen=tail_lines)
        self._line_cap = line_cap
        self._current = _Line(line_cap)
        self.complete_lines = 0
        self.bytes = 0
        self.chars = 0
        """Characters of the whole output decoded so far (what was shown before included)."""

    @property
    def lines(self) -> int:
        """Lines in the stored output (a last line without newline counts)."""
        return self.complete_lines + (1 if self._current.length else 0)

    def feed(self, data: bytes) -> str:
        """Store data; return the part not shown before, decoded for display (undecodable
        bytes replaced)."""
        self._file.write(data)
        self._file.flush()
        fresh = data[max(0, self.shown - self.bytes) :]
        self.bytes += len(data)
        text = self._decoder.decode(data)
        self._take(text)
        self.chars += len(text)
        if len(fresh) == len(data):
            return text
        return self._fresh_decoder.decode(fresh)

    def close(self) -> None:
        """Finish the model's view and the log file, cut to the output unless that is shorter
        than what was shown."""
        self._take(self._decoder.decode(b"", final=True))
        if 0 < self.shown <= self.bytes:
            self._file.truncate()
        self._file.close()

    def _take(self, text: str) -> None:
        *finished, rest = text.split("\n")
        for piece in finished:
            self._current.add(piece)
            self._keep(self._current.render())
            self._current = _Line(self._line_cap)
            self.complete_lines += 1
        if rest:
            self._current.add(rest)

    def _keep(self, line: str) -> None:
        clean = strip_terminal_controls(line).replace("\n", "")
        if len(self._head) < self._head_lines:
            self._head.append(clean)
        else:
            self._tail.append(clean)

    def model_view(self) -> str:
        """Head and tail of the output with the elided line range named."""
        head = list(self._head)
        tail = list(self._tail)
        if self._current.length:
            partial = strip_terminal_controls(self._current.render()).replace("\n", "")
            (head if len(head) < self._head_lines else tail).append(partial)
        shown_after = len(head) + 1
        elided = self.lines - len(head) - len(tail)
        if elided <= 0:
            return "\n".join(head + tail)
        marker = f"[… {elided} lines elided (lines {shown_after}-{shown_after + elided - 1}) …]"
        return "\n".join([*head, marker, *tail])


def stored_view(log_path: Path, head_lines: int, tail_lines: int) -> OutputRecorder:
    """A closed recorder that read a stored log file, for the model's view of it."""
    recorder = OutputRecorder(Path(os.devnull), head_lines, tail_lines)
    with log_path.open("rb") as handle:
        while block := handle.read(1 << 20):
            recorder.feed(block)
    recorder.close()
    return recorder


def count_lines(path: Path) -> int:
    """Lines in a stored log file, counted as OutputRecorder counts them."""
    newlines = 0
    last = b""
    with path.open("rb") as handle:
        while block := handle.read(1 << 20):
            newlines += block.count(b"\n")
            last = block[-1:]
    return newlines + (1 if last and last != b"\n" else 0)
