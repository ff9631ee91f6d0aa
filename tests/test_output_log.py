"""OutputLog: one write per frame, nothing written while hidden, bounded, safe for the terminal."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Iterable

import pytest
from textual.app import App, ComposeResult
from textual.strip import Strip
from textual.widgets import Collapsible, Log, TabbedContent, TabPane

from tui.widgets.output_log import OutputLog

HOSTILE_SEQUENCES = {
    "OSC 52 clipboard write": "\x1b]52;c;cm0gLXJmIH4K\x07",
    "OSC 0 title": "\x1b]0;pwned-title\x1b\\",
    "CSI 2J screen clear": "\x1b[2J",
    "alternate screen": "\x1b[?1049h",
}


class Calls:
    """Which OutputLogs called Log.write_lines and Log.render_line, with a wait on writes."""

    def __init__(self) -> None:
        self.writes: Counter[str | None] = Counter()
        self.renders: Counter[str | None] = Counter()
        self._written = asyncio.Event()

    def record_write(self, log: Log) -> None:
        self.writes[log.id] += 1
        self._written.set()

    async def wait_for_writes(self, log_id: str, count: int = 1) -> None:
        """Return once the log has been written `count` times in all."""
        while self.writes[log_id] < count:
            self._written.clear()
            await asyncio.wait_for(self._written.wait(), timeout=5)


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> Calls:
    """Count Log.write_lines and Log.render_line calls per widget id."""
    recorded = Calls()
    write_lines, render_line = Log.write_lines, Log.render_line

    def counting_write_lines(self: Log, lines: Iterable[str], scroll_end: bool | None = None):
        recorded.record_write(self)
        return write_lines(self, lines, scroll_end)

    def counting_render_line(self: Log, y: int) -> Strip:
        recorded.renders[self.id] += 1
        return render_line(self, y)

    monkeypatch.setattr(Log, "write_lines", counting_write_lines)
    monkeypatch.setattr(Log, "render_line", counting_render_line)
    return recorded


class TabsApp(App[None]):
    """A visible log in the first tab and a log in a hidden second tab."""

    def __init__(self, hidden_max_lines: int = 10_000) -> None:
        super().__init__()
        self.hidden_max_lines = hidden_max_lines

    def compose(self) -> ComposeResult:
        with TabbedContent(initial="visible-tab"):
            with TabPane("Visible", id="visible-tab"):
                yield OutputLog(id="visible")
            with TabPane("Hidden", id="hidden-tab"):
                yield OutputLog(id="hidden", max_lines=self.hidden_max_lines)


class CollapsedApp(App[None]):
    """A log inside a collapsed block, beside a visible log."""

    def compose(self) -> ComposeResult:
        yield OutputLog(id="visible")
        with Collapsible(title="command", collapsed=True):
            yield OutputLog(id="collapsed")


def numbered_lines(count: int, start: int = 0) -> str:
    return "".join(f"line {number}\n" for number in range(start, start + count))


def terminal_bytes(app: App[None]) -> str:
    """What a real terminal would receive to draw the whole current screen."""
    return app.screen._compositor.render_full_update().render_segments(app.console)


async def test_many_appends_become_one_write(calls: Calls) -> None:
    app = TabsApp()
    async with app.run_test() as pilot:
        log = app.query_one("#visible", OutputLog)
        await pilot.pause()
        for number in range(500):
            log.append(f"line {number}\n")
        await calls.wait_for_writes("visible")
        await pilot.pause()
        assert calls.writes["visible"] == 1
        assert log.line_count == 500
        assert log.lines[-1] == "line 499"


async def test_each_frame_writes_its_burst_once(calls: Calls) -> None:
    app = TabsApp()
    async with app.run_test() as pilot:
        log = app.query_one("#visible", OutputLog)
        await pilot.pause()
        for burst in range(1, 4):
            for number in range(100):
                log.append(f"burst {burst} line {number}\n")
            await calls.wait_for_writes("visible", burst)
        await pilot.pause()
        assert calls.writes["visible"] == 3
        assert log.line_count == 300


async def test_hidden_tab_writes_and_renders_nothing_until_shown(calls: Calls) -> None:
    app = TabsApp()
    async with app.run_test() as pilot:
        visible = app.query_one("#visible", OutputLog)
        hidden = app.query_one("#hidden", OutputLog)
        await pilot.pause()
        hidden.append(numbered_lines(1000))
        visible.append("a frame passes\n")
        await calls.wait_for_writes("visible")
        await pilot.pause()
        assert calls.writes["hidden"] == 0 and calls.renders["hidden"] == 0
        assert hidden.line_count == 0 and hidden.buffered_line_count == 1000

        app.query_one(TabbedContent).active = "hidden-tab"
        await calls.wait_for_writes("hidden")
        await pilot.pause()
        assert calls.writes["hidden"] == 1
        assert calls.renders["hidden"] > 0
        assert hidden.line_count == 1000 and hidden.buffered_line_count == 0
        assert "line 999" in terminal_bytes(app)


async def test_collapsed_block_writes_nothing_until_expanded(calls: Calls) -> None:
    app = CollapsedApp()
    async with app.run_test() as pilot:
        collapsed = app.query_one("#collapsed", OutputLog)
        await pilot.pause()
        collapsed.append(numbered_lines(50))
        app.query_one("#visible", OutputLog).append("a frame passes\n")
        await calls.wait_for_writes("visible")
        assert calls.writes["collapsed"] == 0

        app.query_one(Collapsible).collapsed = False
        await calls.wait_for_writes("collapsed")
        assert collapsed.line_count == 50


async def test_hidden_buffer_keeps_only_the_last_max_lines(calls: Calls) -> None:
    app = TabsApp(hidden_max_lines=10_000)
    async with app.run_test() as pilot:
        hidden = app.query_one("#hidden", OutputLog)
        await pilot.pause()
        for start in range(0, 50_000, 1000):
            hidden.append(numbered_lines(1000, start))
        assert hidden.buffered_line_count == 10_000

        app.query_one(TabbedContent).active = "hidden-tab"
        await calls.wait_for_writes("hidden")
        assert calls.writes["hidden"] == 1
        assert hidden.line_count == 10_000
        assert (hidden.lines[0], hidden.lines[-1]) == ("line 40000", "line 49999")


async def test_visible_log_keeps_only_the_last_max_lines(calls: Calls) -> None:
    app = TabsApp()
    async with app.run_test() as pilot:
        log = app.query_one("#visible", OutputLog)
        await pilot.pause()
        for burst in range(1, 6):
            log.append(numbered_lines(10_000, (burst - 1) * 10_000))
            await calls.wait_for_writes("visible", burst)
        assert log.line_count == 10_000
        assert (log.lines[0], log.lines[-1]) == ("line 40000", "line 49999")


async def test_partial_lines_wait_for_their_newline(calls: Calls) -> None:
    app = TabsApp()
    async with app.run_test() as pilot:
        log = app.query_one("#visible", OutputLog)
        await pilot.pause()
        for chunk in ("hel", "lo\nwor", "ld\r", "\n", "10%\r20%\r", "\n\nlast"):
            log.append(chunk)
        await calls.wait_for_writes("visible")
        await pilot.pause()
        assert list(log.lines) == ["hello", "world", "10%", "20%", ""]

        log.finish()
        await calls.wait_for_writes("visible", 2)
        assert list(log.lines) == ["hello", "world", "10%", "20%", "", "last"]


async def test_follows_the_tail_unless_scrolled_up(calls: Calls) -> None:
    app = TabsApp()
    async with app.run_test(size=(80, 20)) as pilot:
        log = app.query_one("#visible", OutputLog)
        await pilot.pause()
        log.append(numbered_lines(200))
        await calls.wait_for_writes("visible")
        await pilot.pause()
        assert log.scroll_y == log.max_scroll_y > 0

        log.scroll_to(y=0, animate=False, immediate=True)
        log.append(numbered_lines(200, 200))
        await calls.wait_for_writes("visible", 2)
        await pilot.pause()
        assert log.scroll_y == 0


async def test_load_replaces_the_content(calls: Calls) -> None:
    app = TabsApp()
    async with app.run_test() as pilot:
        log = app.query_one("#visible", OutputLog)
        await pilot.pause()
        log.append("old\npartial")
        await calls.wait_for_writes("visible")
        log.load("first\nsecond")
        await calls.wait_for_writes("visible", 2)
        assert list(log.lines) == ["first", "second"]


@pytest.mark.parametrize("name", sorted(HOSTILE_SEQUENCES))
async def test_hostile_sequences_never_reach_the_terminal(calls: Calls, name: str) -> None:
    sequence = HOSTILE_SEQUENCES[name]
    app = TabsApp()
    async with app.run_test() as pilot:
        log = app.query_one("#visible", OutputLog)
        await pilot.pause()
        middle = len(sequence) // 2
        log.append(f"before{sequence[:middle]}")
        log.append(f"{sequence[middle:]}after\n")
        log.write_line(f"written {sequence} directly")
        await calls.wait_for_writes("visible")
        await pilot.pause()
        assert list(log.lines) == ["beforeafter", "written  directly"]
        screen = terminal_bytes(app)
    assert "beforeafter" in screen
    for fragment in ("\x1b]", "\x07", "\x1b[2J", "\x1b[?1049", "cm0gLXJmIH4K", "pwned-title"):
        assert fragment not in screen


def test_max_lines_must_be_positive() -> None:
    with pytest.raises(ValueError, match="max_lines"):
        OutputLog(max_lines=0)
