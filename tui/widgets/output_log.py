"""A live log of one command's or one task's output: batched, bounded and safe for the terminal."""

from __future__ import annotations

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.cache import LRUCache
from textual.geometry import Offset, Region, Size
from textual.reactive import var
from textual.scroll_view import ScrollView
from textual.selection import Selection
from textual.strip import Strip
from textual.timer import Timer

from tui.widgets.output_store import LineStore, PendingOutput, clean_line, split_complete, widest

FLUSH_INTERVAL = 1 / 30
"""Seconds between batched writes while output streams in: about one write per frame."""

PARTIAL_LINE_LIMIT = 65_536
"""Characters after which a line still waiting for its newline is taken as a line."""

RENDERED_LINES_KEPT = 256
"""Rendered lines cached while displayed (dropped when hidden: each is many small objects)."""


class OutputLog(ScrollView, can_focus=True):
    """Task output, written in one batch per frame and only while the widget is displayed.

    `append` only buffers. While the widget is displayed a timer writes the whole buffer about
    once per frame. While it is not displayed (a hidden tab, a collapsed block) nothing is
    written or rendered: the buffer keeps the last `max_lines` lines and they are written in
    one batch when the widget is shown. Every line passes through `tui.present.plain`
    first. The view follows the tail unless the user scrolled up.
    """

    ALLOW_SELECT = True
    DEFAULT_CSS = """
    OutputLog {
        background: $surface;
        color: $text;
        overflow: scroll;
        &:focus {
            background-tint: $foreground 5%;
        }
    }
    """

    auto_scroll: var[bool] = var(True)
    """Follow new lines while the view is at the end."""

    def __init__(
        self,
        max_lines: int = 10_000,
        *,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
        disabled: bool = False,
    ) -> None:
        if max_lines < 1:
            raise ValueError(f"max_lines must be at least 1, not {max_lines}")
        super().__init__(name=name, id=id, classes=classes, disabled=disabled)
        self._lines = LineStore()
        self._pending = PendingOutput(max_lines)
        self._partial = ""
        self._width = 0
        self._shown = False
        self._tail_wanted = True
        self._flush_timer: Timer | None = None
        self._strips: LRUCache[int, tuple[Style, Strip]] = LRUCache(RENDERED_LINES_KEPT)
        self._frame: tuple[Style, int, Offset] | None = None

    @property
    def max_lines(self) -> int:
        """Most lines kept, both written and buffered."""
        return self._pending.max_lines

    @property
    def lines(self) -> LineStore:
        """The written lines (read only)."""
        return self._lines

    @property
    def line_count(self) -> int:
        """Lines written; buffered lines are counted once they are written."""
        return len(self._lines)

    @property
    def buffered_line_count(self) -> int:
        """Complete lines waiting to be written (at most `max_lines`)."""
        return len(self._pending)

    def append(self, text: str) -> None:
        """Buffer output; a line is written once its newline has arrived."""
        complete, count, self._partial = split_complete(self._partial + text)
        if len(self._partial) > PARTIAL_LINE_LIMIT:
            complete = f"{complete}\n{self._partial}" if count else self._partial
            count, self._partial = count + 1, ""
        if count:
            self._pending.add(complete, count)
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

    def clear(self) -> None:
        """Drop the written lines, the buffer and any partial line."""
        self._pending.clear()
        self._partial = ""
        self._lines.clear()
        self._strips.clear()
        self._width = 0
        self._tail_wanted = True
        self.virtual_size = Size(0, 0)
        self.refresh()

    def on_show(self) -> None:
        """Write everything buffered while the widget was not displayed, in one batch."""
        self._shown = True
        self._cancel_flush_timer()
        self._write_pending()

    def on_hide(self) -> None:
        """Stop writing; output is buffered until the widget is shown again."""
        self._shown = False
        self._cancel_flush_timer()
        self._strips.clear()

    def on_resize(self) -> None:
        """A new size (often the first real one after being shown): keep following the tail."""
        if self._following():
            self.scroll_end(animate=False, immediate=True, x_axis=False)

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        """Remember whether the view was left at the end: that is where it follows the tail."""
        super().watch_scroll_y(old_value, new_value)
        self._tail_wanted = new_value >= self.max_scroll_y

    def notify_style_update(self) -> None:
        """Styles changed (theme, focus): rendered lines are stale."""
        super().notify_style_update()
        self._strips.clear()

    def get_selection(self, selection: Selection) -> tuple[str, str] | None:
        """The selected text, for copying."""
        return selection.extract("\n".join(self._lines)), "\n"

    def selection_updated(self, selection: Selection | None) -> None:
        """Repaint to show the new selection."""
        self.refresh()

    def render_lines(self, crop: Region) -> list[Strip]:
        """The rows in crop; the style, the size and the scroll are read once for them all
        (the style walks every ancestor)."""
        self._frame = (self.rich_style, self.size.width, self.scroll_offset)
        try:
            return super().render_lines(crop)
        finally:
            self._frame = None

    def render_line(self, y: int) -> Strip:
        """One row of the view: line scroll_y + y, cropped to the horizontal scroll."""
        style, width, (scroll_x, scroll_y) = self._frame or (
            self.rich_style,
            self.size.width,
            self.scroll_offset,
        )
        index = scroll_y + y
        if index >= len(self._lines):
            return Strip.blank(width, style)
        strip = self._line_strip(index, style)
        return strip.crop_extend(scroll_x, scroll_x + width, style).apply_offsets(scroll_x, index)

    def _line_strip(self, index: int, style: Style) -> Strip:
        selection = self.text_selection
        key = self._lines.first_line_number + index
        cached = self._strips.get(key)
        if selection is None and cached is not None and cached[0] == style:
            return cached[1]
        line = self._lines[index]
        if selection is None:
            strip = Strip([Segment(line)], cell_len(line))
            self._strips[key] = (style, strip)
            return strip
        text = Text(line, style=style, no_wrap=True)
        self._highlight_selection(text, selection, index)
        return Strip(text.render(self.app.console), cell_len(line))

    def _highlight_selection(self, text: Text, selection: Selection, index: int) -> None:
        span = selection.get_span(index)
        if span is not None:
            start, end = span
            style = self.screen.get_component_rich_style("screen--selection")
            text.stylize(style, start, len(text) if end == -1 else end)

    def _schedule_flush(self) -> None:
        """Write within FLUSH_INTERVAL while displayed. A Hide that arrived while the log is
        on screen (layout under load posts Hide and Show in bursts) is corrected here, so a
        visible log never stops writing."""
        if self._flush_timer is not None:
            return
        if not self._shown and self.is_on_screen:
            self._shown = True
        if self._shown:
            self._flush_timer = self.set_timer(FLUSH_INTERVAL, self._flush_on_timer)

    def _cancel_flush_timer(self) -> None:
        if self._flush_timer is not None:
            self._flush_timer.stop()
            self._flush_timer = None

    def _flush_on_timer(self) -> None:
        self._flush_timer = None
        self._write_pending()

    def _write_pending(self) -> None:
        """Write every buffered line, cleaned, in one batch."""
        if self._pending:
            self._write_batch([clean_line(line) for line in self._pending.take()])

    def _following(self) -> bool:
        return self.auto_scroll and self._tail_wanted and not self.is_vertical_scrollbar_grabbed

    def _set_virtual_size(self, size: Size) -> None:
        """Grow the scrollable area; lay the screen out again only if this widget's height
        follows its content, since a full layout per batch is the board's largest cost."""
        height = self.styles.height
        if height is None or height.is_auto:
            self.virtual_size = size
        else:
            self.set_reactive(OutputLog.virtual_size, size)
            self._scroll_update(size)

    def _write_batch(self, lines: list[str]) -> None:
        following = self._following()
        self._lines.extend(lines)
        dropped = self._lines.keep_last(self.max_lines)
        self._width = max(self._width, widest(lines))
        self._set_virtual_size(Size(self._width, len(self._lines)))
        if following:
            self.scroll_end(animate=False, immediate=True, x_axis=False)
        elif dropped:
            self.scroll_to(y=max(0, self.scroll_y - dropped), animate=False, immediate=True)
        self.refresh()
