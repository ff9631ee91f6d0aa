"""OutputLog: one write per frame, nothing written while hidden, bounded, safe for the terminal."""

from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path

import pytest
from textual.app import App, ComposeResult
from textual.selection import Selection
from textual.strip import Strip
from textual.widgets import Collapsible, TabbedContent, TabPane

import tui.screens.board
from tui.screens.board import BoardScreen
from tui.widgets.command_block import CommandBlock
from tui.widgets.output_log import PARTIAL_LINE_LIMIT, OutputLog
from tui.widgets.output_store import (
    BLOCK_LINES,
    LineStore,
    PendingOutput,
    clean_line,
    split_complete,
)
from tui.widgets.task_stream import TaskStream

HOSTILE_SEQUENCES = {
    "OSC 52 clipboard write": "\x1b]52;c;cm0gLXJmIH4K\x07",
    "OSC 0 title": "\x1b]0;pwned-title\x1b\\",
    "CSI 2J screen clear": "\x1b[2J",
    "alternate screen": "\x1b[?1049h",
}


class Calls:
    """Which OutputLogs wrote a batch and rendered a line, with a wait on writes."""

    def __init__(self) -> None:
        self.writes: Counter[str | None] = Counter()
        self.renders: Counter[str | None] = Counter()
        self._written = asyncio.Event()

    def record_write(self, log: OutputLog) -> None:
        self.writes[log.id] += 1
        self._written.set()

    async def wait_for_writes(self, log_id: str, count: int = 1) -> None:
        """Return once the log has been written `count` times in all."""
        while self.writes[log_id] < count:
            self._written.clear()
            await asyncio.wait_for(self._written.wait(), timeout=5)


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> Calls:
    """Count batch writes and rendered lines per widget id."""
    recorded = Calls()
    write_batch, render_line = OutputLog._write_batch, OutputLog.render_line

    def counting_write_batch(self: OutputLog, lines: list[str]) -> None:
        recorded.record_write(self)
        write_batch(self, lines)

    def counting_render_line(self: OutputLog, y: int) -> Strip:
        recorded.renders[self.id] += 1
        return render_line(self, y)

    monkeypatch.setattr(OutputLog, "_write_batch", counting_write_batch)
    monkeypatch.setattr(OutputLog, "render_line", counting_render_line)
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


class HiddenStreamApp(App[None]):
    """A command block in a hidden tab, styled as on the board."""

    CSS_PATH = Path(tui.screens.board.__file__).parent / BoardScreen.CSS_PATH

    def compose(self) -> ComposeResult:
        with TabbedContent(initial="visible-tab"):
            yield TabPane("Visible", id="visible-tab")
            with TabPane("Hidden", id="hidden-tab"):
                yield TaskStream("t1")


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


async def test_a_hide_that_arrives_while_on_screen_does_not_stop_the_log(calls: Calls) -> None:
    app = TabsApp()
    async with app.run_test() as pilot:
        visible = app.query_one("#visible", OutputLog)
        await pilot.pause()
        visible.on_hide()
        visible.append(numbered_lines(50))
        await calls.wait_for_writes("visible")
        await pilot.pause()
        assert visible.line_count == 50 and visible.buffered_line_count == 0


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


async def test_block_finished_while_hidden_opens_at_its_last_line(calls: Calls) -> None:
    app = HiddenStreamApp()
    async with app.run_test(size=(100, 40)) as pilot:
        block = CommandBlock("c1", ["make", "test"], "agent", collapsed=False)
        await app.query_one(TaskStream).mount(block)
        await pilot.pause()
        block.append_output(0, numbered_lines(50_000))
        block.set_finished(0, False, 1.0, 50_000)
        await pilot.pause()
        assert calls.writes[None] == 0

        app.query_one(TabbedContent).active = "hidden-tab"
        await calls.wait_for_writes(None)
        await pilot.pause()
        log = block.output
        for _ in range(100):
            if log.size.height and log.scroll_y == log.max_scroll_y:
                break
            await pilot.pause()
        assert 0 < log.size.height < log.virtual_size.height
        assert log.scroll_y == log.max_scroll_y
        assert log.lines[-1] == "line 49999"


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
        log.append(f"in\t{sequence}the middle\n")
        await calls.wait_for_writes("visible")
        await pilot.pause()
        assert list(log.lines) == ["beforeafter", "in      the middle"]
        screen = terminal_bytes(app)
    assert "beforeafter" in screen
    for fragment in ("\x1b]", "\x07", "\x1b[2J", "\x1b[?1049", "cm0gLXJmIH4K", "pwned-title"):
        assert fragment not in screen


def test_max_lines_must_be_positive() -> None:
    with pytest.raises(ValueError, match="max_lines"):
        OutputLog(max_lines=0)


async def test_scrolled_up_view_keeps_its_lines_when_old_ones_drop(calls: Calls) -> None:
    app = TabsApp()
    async with app.run_test(size=(80, 20)) as pilot:
        log = app.query_one("#visible", OutputLog)
        await pilot.pause()
        log.append(numbered_lines(10_000))
        await calls.wait_for_writes("visible")
        await pilot.pause()
        log.scroll_to(y=5_000, animate=False, immediate=True)
        log.append(numbered_lines(1_000, 10_000))
        await calls.wait_for_writes("visible", 2)
        await pilot.pause()
        assert log.lines[0] == "line 1000"
        assert log.lines[round(log.scroll_y)] == "line 5000"


async def test_a_long_line_without_newline_is_taken_as_a_line(calls: Calls) -> None:
    app = TabsApp()
    async with app.run_test() as pilot:
        log = app.query_one("#visible", OutputLog)
        await pilot.pause()
        log.append("x" * (PARTIAL_LINE_LIMIT + 1))
        await calls.wait_for_writes("visible")
        assert log.line_count == 1 and log.virtual_size.width == PARTIAL_LINE_LIMIT + 1


async def test_width_counts_terminal_cells(calls: Calls) -> None:
    app = TabsApp()
    async with app.run_test() as pilot:
        log = app.query_one("#visible", OutputLog)
        await pilot.pause()
        log.append("ok\n日本語のテキスト\n")
        await calls.wait_for_writes("visible")
        assert log.virtual_size == (16, 2)


async def test_selection_copies_the_written_text(calls: Calls) -> None:
    app = TabsApp()
    async with app.run_test() as pilot:
        log = app.query_one("#visible", OutputLog)
        await pilot.pause()
        log.append("first\nsecond\n")
        await calls.wait_for_writes("visible")
        assert log.get_selection(Selection(None, None)) == ("first\nsecond", "\n")


def test_split_complete_keeps_the_rest_and_a_trailing_cr() -> None:
    assert split_complete("a\r\nb\rc\nrest") == ("a\nb\nc", 3, "rest")
    assert split_complete("no newline") == ("", 0, "no newline")
    assert split_complete("a\r") == ("", 0, "a\r")


def test_clean_line_strips_controls_and_expands_tabs() -> None:
    assert clean_line("plain text") == "plain text"
    assert clean_line("\x1b[31mred\x1b[0m\tx\x07") == "red     x"


@pytest.mark.parametrize("batch", [1, 100, BLOCK_LINES, 1000])
def test_line_store_matches_a_list(batch: int) -> None:
    store, expected = LineStore(), []
    for start in range(0, 3000, batch):
        lines = [f"line {number}" for number in range(start, min(start + batch, 3000))]
        store.extend(lines)
        expected.extend(lines)
        dropped = store.keep_last(700)
        assert dropped == max(0, len(expected) - 700)
        expected = expected[-700:]
        assert len(store) == len(expected)
        assert (store[0], store[-1], list(store)) == (expected[0], expected[-1], expected)
    assert store.first_line_number == 2300
    with pytest.raises(IndexError):
        store[700]


def test_line_store_clear_starts_again() -> None:
    store = LineStore()
    store.extend([str(number) for number in range(600)])
    store.clear()
    store.extend(["again"])
    assert (list(store), store.first_line_number) == (["again"], 0)


def test_pending_output_keeps_the_last_lines() -> None:
    pending = PendingOutput(max_lines=5)
    pending.add("a\nb\nc\nd\ne\nf\ng", 7)
    assert len(pending) == 5
    pending.add("h\ni", 2)
    assert pending.take() == ["e", "f", "g", "h", "i"]
    assert len(pending) == 0
