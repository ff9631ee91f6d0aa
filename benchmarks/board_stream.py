"""The real board streaming 20 tasks: key latency, loop lag, lines on disk, memory, tab show.

TaskyardApp runs headless (App.run_test, 120x40) as a client of an Engine served in this process
on a real socket, on a temporary TASKYARD_HOME with the FakeBackend and no model. 20 running tasks
are inserted in the store and opened as tabs (BoardScreen.open_task), one visible; a 21st is
opened and left hidden. Every task runs one command through the engine's CommandRunner, so each
chunk is in the command's log file before its OutputChunk reaches the bus, between CommandStarted
and CommandFinished: a paced stand-in for the sandbox prints 2,000 lines/s for 10 s (the 21st:
50,000 lines in the first 5 s).

F9 is sent every 50 ms from a thread through the driver, as the terminal driver's input thread
sends keys, and timed from when it was due to the action the benchmark's subclass binds to it.
A 10 ms ticker records how late each tick is served. Both run on a fixed schedule, so a stall
counts once per key or tick it delays. The same probes run for 2 s before streaming: the idle
floor. At 70% of the run the 21st task's tab is shown and timed to the end of the frame that
paints its last line (its log's render_lines, watched); at 85% it is shown again with nothing
to write: the floor. Headless Textual composes every frame but writes no terminal.
--gc-freeze calls gc.freeze() once the board is up, as an app can after startup.

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
import threading
import time
from collections.abc import Awaitable
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import Any, ClassVar, TypeVar

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from textual import events
from textual.binding import Binding, BindingType
from textual.geometry import Region
from textual.strip import Strip

from engine.agent.output import count_lines
from engine.api import Engine
from engine.config import Config
from engine.paths import Paths
from engine.record.views import TaskRecord
from engine.run.commands import CommandRunner
from sandboxes.base import ExecResult, OutputCallback
from sandboxes.fake import FakeBackend
from tests.support.service import client_of
from tui.app import TaskyardApp
from tui.screens.board import pane_id
from tui.widgets.command_block import MAX_OUTPUT_LINES

KEY_INTERVAL = 0.05
TICK_INTERVAL = 0.01
CHUNK_INTERVAL = 0.02
IDLE_SECONDS = 2.0
BIG_TASK_LINES = 50_000
SHOW_WAIT = 1.0
SCREEN_SIZE = (120, 40)

T = TypeVar("T")


def output_line(task: int, number: int) -> str:
    """A build-log line; every tenth is a coloured test result."""
    prefix = f"[task {task:02d}] {number:07d}"
    if number % 10 == 0:
        return f"{prefix} tests/test_module_{number % 97}.py \x1b[32mPASSED\x1b[0m\n"
    return f"{prefix} compiling src/module_{number % 997}.py ... ok\n"


class PacedSandbox:
    """Stands in for a sandbox whose command prints `lines` build-log lines over `seconds`."""

    def __init__(self, task: int, lines: int, seconds: float) -> None:
        self.task, self.lines, self.seconds = task, lines, seconds

    async def exec(self, argv: list[str], *, on_output: OutputCallback, **_: Any) -> ExecResult:
        produced, started = 0, time.perf_counter()
        while produced < self.lines:
            elapsed = time.perf_counter() - started
            due = min(self.lines, int(elapsed / self.seconds * self.lines))
            if due > produced:
                text = "".join(output_line(self.task, n) for n in range(produced, due))
                on_output(text.encode())
                produced = due
            await asyncio.sleep(CHUNK_INTERVAL)
        return ExecResult(0, False, time.perf_counter() - started)


class BenchmarkApp(TaskyardApp):
    """The real board plus one key binding whose handler logs its time."""

    CSS_PATH = str(
        Path(sys.modules[TaskyardApp.__module__].__file__ or "").parent / "styles/app.tcss"
    )
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("f9", "ping", "Ping", id="bench.ping", show=False)
    ]

    def __init__(self, engine: Engine, repo: Path) -> None:
        connect = partial(client_of, engine, "board")
        super().__init__(connect, engine.config, engine.paths.config_dir, repo)
        self.engine = engine
        self.key_handled: list[float] = []

    def action_ping(self) -> None:
        self.key_handled.append(time.perf_counter())


def insert_running_task(engine: Engine, task: int, repo: Path) -> str:
    """A running task owned by this process, as the engine records it when it starts."""
    task_id, now, image = f"bench{task:03d}", time.time(), engine.config.sandbox.image
    prompt, owner = f"Build and test module {task}", str(os.getpid())
    record = TaskRecord(
        task_id, now, now, prompt, str(repo), "main", "code", "default", image, "running"
    )
    engine.store.insert_task(replace(record, owner=owner))
    return task_id


async def run_command(engine: Engine, task_id: str, sandbox: PacedSandbox) -> int:
    """One command through CommandRunner, as the agent runs it; return the lines produced."""
    head, tail = engine.config.agent.output_head_lines, engine.config.agent.output_tail_lines
    runner = CommandRunner(
        task_id, engine.store, engine.bus.emit, engine.paths.logs_dir, head, tail
    )
    argv = ["make", "-j8", "test"]
    await runner.run(sandbox, argv, workdir="/workspace", phase="agent", timeout=600)  # type: ignore[arg-type]
    return sandbox.lines


@dataclass
class Probes:
    """Key-press, event-loop and full garbage collection measurements over one phase."""

    key_sent: list[float] = field(default_factory=list)
    key_latencies: list[float] = field(default_factory=list)
    loop_lags: list[float] = field(default_factory=list)
    wakeup_lags: list[float] = field(default_factory=list)
    full_gcs: list[float] = field(default_factory=list)
    gc_started: float = 0.0

    def on_gc(self, phase: str, info: dict[str, int]) -> None:
        """A gc callback: record how long each full (generation 2) collection takes."""
        if phase == "start":
            self.gc_started = time.perf_counter()
        elif info["generation"] == 2:
            self.full_gcs.append(time.perf_counter() - self.gc_started)


def press_keys(app: BenchmarkApp, probes: Probes, stop: threading.Event) -> None:
    """Send F9 every KEY_INTERVAL from a thread, as the terminal driver's input thread sends
    keys. Each key counts from when it was due, so a stalled loop or GIL cannot hide its wait."""
    driver, due = app._driver, time.perf_counter()
    assert driver is not None
    while not stop.is_set():
        due += KEY_INTERVAL
        time.sleep(max(0.0, due - time.perf_counter()))
        probes.key_sent.append(due)
        driver.send_message(events.Key("f9", None).set_sender(app))


async def tick(probes: Probes, stop: threading.Event) -> None:
    """A 10 ms ticker on a fixed schedule, recording how late each tick is served: a stall
    that swallows several ticks counts once per tick, as for keys pressed during it."""
    due = time.perf_counter() + TICK_INTERVAL
    while not stop.is_set():
        await asyncio.sleep(max(0.0, due - time.perf_counter()))
        now = time.perf_counter()
        probes.wakeup_lags.append(now - due)
        while due <= now:
            probes.loop_lags.append(now - due)
            due += TICK_INTERVAL


async def probe_during(app: BenchmarkApp, work: Awaitable[T]) -> tuple[Probes, T]:
    """Run the probes while work runs; pair each key sent with its handling."""
    probes, stop = Probes(), threading.Event()
    handled_before = len(app.key_handled)
    probing = [asyncio.to_thread(press_keys, app, probes, stop), tick(probes, stop)]
    probing_done = asyncio.gather(*probing)
    gc.callbacks.append(probes.on_gc)
    try:
        result = await work
    finally:
        gc.callbacks.remove(probes.on_gc)
        stop.set()
        await probing_done
    while len(app.key_handled) - handled_before < len(probes.key_sent):
        await asyncio.sleep(TICK_INTERVAL)
    handled = app.key_handled[handled_before:]
    probes.key_latencies = [
        done - sent for sent, done in zip(probes.key_sent, handled, strict=True)
    ]
    return probes, result


@dataclass
class TabShow:
    """A tab shown: seconds until a frame painted its last line (None: not in time), and how."""

    seconds: float | None
    detail: str


async def show_tab(app: BenchmarkApp, task: int, task_id: str) -> TabShow:
    """Activate a task's tab; time the frames that paint its output and its last line."""
    view = app.board.task_view(task_id)
    assert view is not None
    log = next(iter(view.stream.blocks.values())).output
    loop = asyncio.get_running_loop()
    painted: asyncio.Future[float] = loop.create_future()
    tail: asyncio.Future[float] = loop.create_future()
    wanted = ((painted, f"[task {task:02d}]"), (tail, output_line(task, BIG_TASK_LINES - 1)[:17]))
    render_lines = log.render_lines

    def frame_done(future: asyncio.Future[float]) -> None:
        if not future.done():
            future.set_result(time.perf_counter())

    def watched_render_lines(crop: Region) -> list[Strip]:
        strips = render_lines(crop)
        for future, text in wanted:
            if any(text in strip.text for strip in strips):
                loop.call_soon(frame_done, future)
        return strips

    log.render_lines = watched_render_lines  # type: ignore[method-assign]
    started = time.perf_counter()
    app.board.tabs.active = pane_id(task_id)
    try:
        await asyncio.wait([painted, tail], timeout=SHOW_WAIT)
    finally:
        del log.render_lines
    if tail.done():
        seconds = tail.result() - started
        return TabShow(seconds, f"last line painted after {seconds * 1000:.1f} ms")
    top, rows, buffered = log.scroll_offset.y, log.size.height, log.buffered_line_count
    view_at = f"{rows} rows high at line {top + 1:,} of {log.line_count:,}, {buffered:,} buffered"
    if not painted.done():
        return TabShow(None, f"nothing painted within {SHOW_WAIT:g} s ({view_at})")
    painted_ms = (painted.result() - started) * 1000
    detail = f"output painted after {painted_ms:.1f} ms, its last line not within {SHOW_WAIT:g} s"
    return TabShow(None, f"{detail} ({view_at})")


async def show_big_tab(app: BenchmarkApp, task_ids: list[str], seconds: float) -> list[TabShow]:
    """Show the hidden last task's tab at 70% of the run, and again at 85%."""
    started, shows = time.perf_counter(), []
    for at in (0.7, 0.85):
        await asyncio.sleep(started + seconds * at - time.perf_counter())
        shows.append(await show_tab(app, len(task_ids) - 1, task_ids[-1]))
        await app.board.open_task(task_ids[0])
    return shows


async def stream_all(
    app: BenchmarkApp, task_ids: list[str], args: argparse.Namespace
) -> tuple[int, list[TabShow]]:
    """Every task's command at once, the big one in the first half; return lines, tab shows."""
    lines = int(args.rate * args.seconds)
    sandboxes = [PacedSandbox(task, lines, args.seconds) for task in range(len(task_ids) - 1)]
    sandboxes.append(PacedSandbox(len(task_ids) - 1, BIG_TASK_LINES, args.seconds / 2))
    commands = [run_command(app.engine, *pair) for pair in zip(task_ids, sandboxes, strict=True)]
    *counts, shows = await asyncio.gather(*commands, show_big_tab(app, task_ids, args.seconds))
    return sum(counts), shows


def rss_bytes() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


@dataclass
class Results:
    """Everything the report prints."""

    idle: Probes
    streaming: Probes
    produced: int
    on_disk: int
    rss_growth: int
    shows: list[TabShow]


async def run(args: argparse.Namespace, home: Path) -> Results:
    paths = Paths(config_dir=home / "config", state_dir=home / "state")
    engine = Engine(paths, Config(), backend=FakeBackend(home / "sandboxes"))
    repo = home / "repo"
    task_ids = [insert_running_task(engine, task, repo) for task in range(args.tasks + 1)]
    app = BenchmarkApp(engine, repo)
    async with app.run_test(size=SCREEN_SIZE) as pilot:
        for task_id in [*task_ids, task_ids[0]]:
            await app.board.open_task(task_id)
            await pilot.pause()
        if args.gc_freeze:
            gc.freeze()
        rss_before = rss_bytes()
        idle, _ = await probe_during(app, asyncio.sleep(IDLE_SECONDS))
        streaming, (produced, shows) = await probe_during(app, stream_all(app, task_ids, args))
        await pilot.pause()
        rss_after = rss_bytes()
        commands = [command for task_id in task_ids for command in engine.commands(task_id)]
    logs = [Path(command.log_path) for command in commands]
    on_disk = sum(count_lines(log) for log in logs)
    return Results(idle, streaming, produced, on_disk, rss_after - rss_before, shows)


def p99_ms(values: list[float]) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[98] * 1000


def verdict(ok: bool) -> str:
    return "ok" if ok else "MISSED"


def timing_row(label: str, samples: list[float], floor: list[float], counted: str) -> str:
    p99 = p99_ms(samples)
    return (
        f"{label:<30}{p99:8.1f} ms    goal < 50 ms   {verdict(p99 < 50):<6}  "
        f"median {statistics.median(samples) * 1000:.1f} ms, max {max(samples) * 1000:.1f} ms; "
        f"idle floor p99 {p99_ms(floor):.1f} ms; {len(samples)} {counted}"
    )


def report(results: Results, args: argparse.Namespace) -> None:
    streaming, idle = results.streaming, results.idle
    print(
        f"real board: {args.tasks} tasks x {args.rate:,} lines/s x {args.seconds:g} s + 1 hidden "
        f"task x {BIG_TASK_LINES:,} lines, one tab visible, headless "
        f"{SCREEN_SIZE[0]}x{SCREEN_SIZE[1]}{', gc frozen' if args.gc_freeze else ''}"
    )
    print(
        timing_row("key press -> handler p99", streaming.key_latencies, idle.key_latencies, "keys")
    )
    print(
        timing_row("event-loop lag p99", streaming.loop_lags, idle.loop_lags, "ticks")
        + f" (per wake-up: p99 {p99_ms(streaming.wakeup_lags):.1f} ms)"
    )
    pauses = ", ".join(f"{pause * 1000:.0f}" for pause in streaming.full_gcs) or "none"
    print(f"{'full gc pauses':<30}{pauses} ms while streaming")
    equal = results.produced == results.on_disk
    print(
        f"{'lines produced / on disk':<30}{results.produced:,} / {results.on_disk:,}"
        f"    goal: equal    {verdict(equal)}"
    )
    print(
        f"{'RSS growth':<30}{results.rss_growth / 2**20:+8.1f} MiB   "
        f"no goal; each command's log keeps its last {MAX_OUTPUT_LINES:,} lines"
    )
    first, again = results.shows
    shown = first.seconds is not None and first.seconds < 0.1
    headline = f"{first.seconds * 1000:8.1f} ms" if first.seconds is not None else "   not shown"
    print(
        f"{f'show hidden tab, {BIG_TASK_LINES:,} lines':<30}{headline}    goal < 100 ms  "
        f"{verdict(shown):<6}  while streaming: {first.detail}; shown again (floor): "
        f"{again.detail}"
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
