"""Streaming many tasks through OutputLog tabs: key latency, loop lag, lines on disk, memory.

A headless Textual app (App.run_test) holds 20 task tabs in a TabbedContent, one visible. Each
task streams 2,000 lines/s for 10 s: every chunk goes to its log file through the engine's
OutputRecorder (as the engine writes command output), then to the app as one message, whose
handler appends it to the task's OutputLog. Meanwhile a key is sent every 50 ms the way
Pilot.press sends it (without Pilot's wait for idle, so presses keep their cadence) and a 10 ms
ticker measures its own lateness. The same probes run for 2 s before streaming: the idle floor.
Two more hidden tabs each hold 50,000 lines; one is shown while streaming, one after, just
after an empty tab is shown: the floor, what switching tabs costs without any output.
--gc-freeze calls gc.freeze() once the app is up, as an app can after startup: full garbage
collections then skip Textual's startup objects, which shortens the longest pauses.

    .venv/bin/python benchmarks/board_stream.py [--tasks 20] [--rate 2000] [--seconds 10]
        [--gc-freeze]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar, TypeVar

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from textual import events
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.widgets import TabbedContent, TabPane

from engine.agent.output import OutputRecorder, count_lines
from tui.widgets.output_log import OutputLog

KEY_INTERVAL = 0.05
TICK_INTERVAL = 0.01
CHUNK_INTERVAL = 0.02
IDLE_SECONDS = 2.0
BIG_TAB_LINES = 50_000
SCREEN_SIZE = (120, 40)
PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")

T = TypeVar("T")


class TaskOutput(Message):
    """A chunk of one task's output, already on disk."""

    def __init__(self, task: int, text: str) -> None:
        super().__init__()
        self.task = task
        self.text = text


class TimedOutputLog(OutputLog):
    """An OutputLog that reports the first screen refresh after it is shown."""

    def __init__(self, max_lines: int, id: str) -> None:
        super().__init__(max_lines=max_lines, id=id)
        self.painted = asyncio.Event()

    def on_show(self) -> None:
        self.call_after_refresh(self.painted.set)


class BoardStreamApp(App[None]):
    """Task tabs fed by TaskOutput messages, and a key binding whose handler logs its time."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("f9", "ping", "Ping", id="benchmark.ping")]

    def __init__(self, tasks: int) -> None:
        super().__init__()
        self.tasks = tasks
        self.key_handled: list[float] = []
        self.logs: list[OutputLog] = []

    def compose(self) -> ComposeResult:
        with TabbedContent(initial="task-0"):
            for task in range(self.tasks):
                with TabPane(f"task {task}", id=f"task-{task}"):
                    yield OutputLog(id=f"log-{task}")
            for name in ("big-busy", "big-quiet", "empty"):
                with TabPane(name, id=name):
                    yield TimedOutputLog(max_lines=BIG_TAB_LINES, id=f"log-{name}")

    def on_mount(self) -> None:
        self.logs = [self.query_one(f"#log-{task}", OutputLog) for task in range(self.tasks)]

    def action_ping(self) -> None:
        self.key_handled.append(time.perf_counter())

    def on_task_output(self, message: TaskOutput) -> None:
        self.logs[message.task].append(message.text)


@dataclass
class Probes:
    """Key-press and event-loop measurements over one phase."""

    key_sent: list[float] = field(default_factory=list)
    key_latencies: list[float] = field(default_factory=list)
    loop_lags: list[float] = field(default_factory=list)


def output_line(task: int, number: int) -> str:
    """A build-log line; every tenth is a coloured test result."""
    prefix = f"[task {task:02d}] {number:07d}"
    if number % 10 == 0:
        return f"{prefix} tests/test_module_{number % 97}.py \x1b[32mPASSED\x1b[0m\n"
    return f"{prefix} compiling src/module_{number % 997}.py ... ok\n"


def output_text(task: int, start: int, end: int) -> str:
    return "".join(output_line(task, number) for number in range(start, end))


async def stream_task(
    app: BoardStreamApp, task: int, recorder: OutputRecorder, rate: int, seconds: float
) -> int:
    """Produce rate lines/s for seconds, on schedule; return the lines produced."""
    total = int(rate * seconds)
    produced = 0
    started = time.perf_counter()
    while produced < total:
        due = min(total, int((time.perf_counter() - started) * rate))
        if due > produced:
            text = recorder.feed(output_text(task, produced, due).encode())
            app.post_message(TaskOutput(task, text))
            produced = due
        await asyncio.sleep(CHUNK_INTERVAL)
    return produced


async def press_keys(app: BoardStreamApp, probes: Probes, stop: asyncio.Event) -> None:
    """Send F9 every KEY_INTERVAL as the driver does, recording when each was sent."""
    assert app._driver is not None
    while not stop.is_set():
        key = events.Key("f9", None)
        key.set_sender(app)
        probes.key_sent.append(time.perf_counter())
        app._driver.send_message(key)
        await asyncio.sleep(KEY_INTERVAL)


async def tick(probes: Probes, stop: asyncio.Event) -> None:
    """Sleep TICK_INTERVAL at a time, recording how late each wake-up is."""
    while not stop.is_set():
        expected = time.perf_counter() + TICK_INTERVAL
        await asyncio.sleep(TICK_INTERVAL)
        probes.loop_lags.append(time.perf_counter() - expected)


async def probe_during(app: BoardStreamApp, work: Awaitable[T]) -> tuple[Probes, T]:
    """Run the key and loop probes while work runs; pair each key sent with its handling."""
    probes = Probes()
    stop = asyncio.Event()
    handled_before = len(app.key_handled)
    probing = [
        asyncio.create_task(press_keys(app, probes, stop)),
        asyncio.create_task(tick(probes, stop)),
    ]
    result = await work
    stop.set()
    await asyncio.gather(*probing)
    while len(app.key_handled) - handled_before < len(probes.key_sent):
        await asyncio.sleep(TICK_INTERVAL)
    handled = app.key_handled[handled_before:]
    probes.key_latencies = [
        done - sent for sent, done in zip(probes.key_sent, handled, strict=True)
    ]
    return probes, result


async def show_tab(app: BoardStreamApp, tab: str, lines: int = BIG_TAB_LINES) -> float:
    """Seconds from activating a tab holding a TimedOutputLog to its first refresh."""
    log = app.query_one(f"#log-{tab}", TimedOutputLog)
    started = time.perf_counter()
    app.query_one(TabbedContent).active = tab
    await log.painted.wait()
    elapsed = time.perf_counter() - started
    assert log.line_count == lines and log.scroll_y == log.max_scroll_y
    return elapsed


async def show_tab_later(app: BoardStreamApp, tab: str, delay: float) -> float:
    await asyncio.sleep(delay)
    elapsed = await show_tab(app, tab)
    app.query_one(TabbedContent).active = "task-0"
    return elapsed


def fill_big_tabs(app: BoardStreamApp) -> None:
    for name in ("big-busy", "big-quiet"):
        app.query_one(f"#log-{name}", OutputLog).append(output_text(99, 0, BIG_TAB_LINES))


def rss_bytes() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * PAGE_SIZE


@dataclass
class Results:
    """Everything the report prints."""

    idle: Probes
    streaming: Probes
    produced: int
    on_disk: int
    rss_growth: int
    show_busy: float
    show_quiet: float
    show_empty: float


async def stream_all(
    app: BoardStreamApp, recorders: list[OutputRecorder], args: argparse.Namespace
) -> tuple[int, float]:
    """Stream every task, showing the busy 50,000-line tab near the end; return lines, show time."""
    streams = [
        stream_task(app, task, recorder, args.rate, args.seconds)
        for task, recorder in enumerate(recorders)
    ]
    *counts, show_busy = await asyncio.gather(
        *streams, show_tab_later(app, "big-busy", args.seconds * 0.8)
    )
    return sum(counts), show_busy


async def run(args: argparse.Namespace, logs_dir: Path) -> Results:
    app = BoardStreamApp(args.tasks)
    recorders = [
        OutputRecorder(logs_dir / f"task-{task}.log", 10, 10) for task in range(args.tasks)
    ]
    async with app.run_test(size=SCREEN_SIZE) as pilot:
        fill_big_tabs(app)
        await pilot.pause()
        if args.gc_freeze:
            gc.freeze()
        rss_before = rss_bytes()
        idle, _ = await probe_during(app, asyncio.sleep(IDLE_SECONDS))
        streaming, (produced, show_busy) = await probe_during(app, stream_all(app, recorders, args))
        await pilot.pause()
        show_empty = await show_tab(app, "empty", lines=0)
        show_quiet = await show_tab(app, "big-quiet")
        rss_after = rss_bytes()
    for recorder in recorders:
        recorder.close()
    on_disk = sum(count_lines(recorder.log_path) for recorder in recorders)
    return Results(
        idle,
        streaming,
        produced,
        on_disk,
        rss_after - rss_before,
        show_busy,
        show_quiet,
        show_empty,
    )


def p99_ms(values: list[float]) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[98] * 1000


def verdict(ok: bool) -> str:
    return "ok" if ok else "MISSED"


def timing_row(label: str, samples: list[float], floor: list[float], counted: str) -> str:
    p99 = p99_ms(samples)
    return (
        f"{label:<30}{p99:8.1f} ms    goal < 50 ms   {verdict(p99 < 50):<6}  "
        f"max {max(samples) * 1000:.1f} ms; idle floor p99 {p99_ms(floor):.1f} ms; "
        f"{len(samples)} {counted}"
    )


def report(results: Results, args: argparse.Namespace) -> None:
    streaming, idle = results.streaming, results.idle
    show = max(results.show_busy, results.show_quiet) * 1000
    equal = results.produced == results.on_disk
    print(
        f"{args.tasks} tasks x {args.rate:,} lines/s x {args.seconds:g} s, one tab visible, "
        f"headless {SCREEN_SIZE[0]}x{SCREEN_SIZE[1]}{', gc frozen' if args.gc_freeze else ''}"
    )
    print(
        timing_row("key press -> handler p99", streaming.key_latencies, idle.key_latencies, "keys")
    )
    print(timing_row("event-loop lag p99", streaming.loop_lags, idle.loop_lags, "ticks"))
    print(
        f"{'lines produced / on disk':<30}{results.produced:,} / {results.on_disk:,}"
        f"    goal: equal    {verdict(equal)}"
    )
    print(
        f"{'RSS growth':<30}{results.rss_growth / 2**20:+8.1f} MiB   "
        f"no goal; {args.tasks} logs keep 10,000 lines each, 2 tabs {BIG_TAB_LINES:,}"
    )
    print(
        f"{f'show hidden tab, {BIG_TAB_LINES:,} lines':<30}{show:8.1f} ms    goal < 100 ms  "
        f"{verdict(show < 100):<6}  while streaming {results.show_busy * 1000:.1f} ms; "
        f"quiet {results.show_quiet * 1000:.1f} ms; "
        f"empty tab (floor) {results.show_empty * 1000:.1f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=20)
    parser.add_argument("--rate", type=int, default=2000, help="lines per second per task")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--gc-freeze", action="store_true", help="gc.freeze() after startup")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        results = asyncio.run(run(args, Path(tmp)))
    report(results, args)


if __name__ == "__main__":
    main()
