"""A live log of one command's or one task's output: batched, bounded and safe for the terminal."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from typing import Any, Self

from textual.timer import Timer
from textual.widgets import Log

from engine.sanitize import strip_terminal_controls

FLUSH_INTERVAL = 1 / 30
"""Seconds between batched writes while output streams in: about one write per frame."""

PARTIAL_LINE_LIMIT = 65_536
"""Characters after which a line still waiting for its newline is written as a line."""


def split_lines(data: str) -> tuple[list[str], str]:
    """Complete lines of data and the unterminated rest; LF, CRLF and a lone CR end a line.

    A CR at the very end stays in the rest: it may be the first half of a CRLF.
    """
    held = ""
    if data.endswith("\r"):
        data, held = data[:-1], "\r"
    lines = data.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    rest = lines.pop() + held
    return lines, rest


def clean_line(line: str) -> str:
    """The line with terminal control sequences and control characters removed."""
    return line if line.isprintable() else strip_terminal_controls(line)


class OutputLog(Log):
    """Task output, written in one batch per frame and only while the widget is displayed.

    `append` only buffers. While the widget is displayed a timer writes the whole buffer with
    one `write_lines` call about once per frame. While it is not displayed (a hidden tab, a
    collapsed block) nothing is written: the buffer keeps the last `max_lines` lines, and they
    are written in one batch when the widget is shown. Every line passes through
    `strip_terminal_controls` first. The view follows the tail unless the user scrolled up.
    """

    def __init__(self, max_lines: int = 10_000, **kwargs: Any) -> None:
        if max_lines < 1:
            raise ValueError(f"max_lines must be at least 1, not {max_lines}")
        super().__init__(max_lines=max_lines, **kwargs)
        self._pending: deque[str] = deque(maxlen=max_lines)
        self._partial = ""
        self._shown = False
        self._flush_timer: Timer | None = None

    @property
    def line_count(self) -> int:
        """Lines written to the log; buffered lines are not counted until they are written."""
        return len(self.lines)

    @property
    def buffered_line_count(self) -> int:
        """Complete lines waiting to be written (at most `max_lines`)."""
        return len(self._pending)

    def append(self, text: str) -> None:
        """Buffer output; a line is written once its newline has arrived."""
        lines, self._partial = split_lines(self._partial + text)
        if len(self._partial) > PARTIAL_LINE_LIMIT:
            lines.append(self._partial)
            self._partial = ""
        if lines:
            self._pending.extend(lines)
            self._schedule_flush()

    def finish(self) -> None:
        """The output has ended: buffer its last line even though no newline came."""
        if self._partial:
            self.append("\n")

    def load(self, text: str) -> None:
        """Replace the content with text, a complete output whose last line needs no newline."""
        self.clear()
        self.append(text)
        self.finish()

    def clear(self) -> Self:
        """Drop the written lines, the buffer and any partial line."""
        self._pending.clear()
        self._partial = ""
        return super().clear()

    def write(self, data: str, scroll_end: bool | None = None) -> Self:
        """Same as `append`, so that nothing bypasses the buffer and the sanitiser."""
        self.append(data)
        return self

    def write_lines(self, lines: Iterable[str], scroll_end: bool | None = None) -> Self:
        """Append each of lines as one line of output."""
        self.append("".join(f"{line}\n" for line in lines))
        return self

    def on_show(self) -> None:
        """Write everything buffered while the widget was not displayed, in one batch."""
        self._shown = True
        self._cancel_flush_timer()
        self._write_pending()

    def on_hide(self) -> None:
        """Stop writing; output is buffered until the widget is shown again."""
        self._shown = False
        self._cancel_flush_timer()

    def _schedule_flush(self) -> None:
        if self._shown and self._flush_timer is None:
            self._flush_timer = self.set_timer(FLUSH_INTERVAL, self._flush_on_timer)

    def _cancel_flush_timer(self) -> None:
        if self._flush_timer is not None:
            self._flush_timer.stop()
            self._flush_timer = None

    def _flush_on_timer(self) -> None:
        self._flush_timer = None
        self._write_pending()

    def _write_pending(self) -> None:
        """Write every buffered line, cleaned, with one `write_lines` call."""
        if not self._pending:
            return
        text = "\n".join(clean_line(line) for line in self._pending) + "\n"
        self._pending.clear()
        super().write_lines([text])
