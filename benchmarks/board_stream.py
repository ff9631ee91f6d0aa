"""The real board streaming 20 tasks through a separate service process: key latency, loop lag,
line-written -> painted latency, lines on the board vs on disk, memory, tab show; 1 or 2 boards.

benchmarks/paced_service.py runs the engine as taskyard runs it, in its own process: an Engine
on the FakeBackend for a temporary TASKYARD home served on its socket. 20 running tasks and a
21st are in its store; on `go` each runs one command through the engine's CommandRunner (log
file before event), a paced stand-in for the sandbox printing 2,000 lines/s for 10 s (the 21st:
50,000 lines in the first 5 s). Every line carries the time.time() it was produced at.

Each board is its own process (this script with --as-board): TaskyardApp headless
(App.run_test, 120x40) connected with ServiceClient.open(paths, "board"). It opens the 20 tasks
as tabs (BoardScreen.open_task), one visible, and the 21st hidden. F9 is sent every 50 ms from a
thread through the driver, as the terminal driver's input thread sends keys, and timed from
when it was due to the action the benchmark's subclass binds to it. A 10 ms ticker records how
late each tick is served. Both run on a fixed schedule, so a stall counts once per key or tick
it delays. The same probes run for 2 s before streaming (all boards at once): the idle floor.
While streaming, the visible tab's log render_lines is watched: for each line number first seen
painted, time.time() minus its production time, stamped once the frame's work is done (lines
that scroll past between frames are never painted and not counted). At 70% of the run the
21st task's tab is shown and timed to the end of the frame that paints its last line; at 85% it
is shown again with nothing to write: the floor. A board streams until every command's block
has ended; it counts the lines it received (each piece placed by its offset) against the lines
in the commands' log files. Headless Textual composes every frame but writes no terminal.
--gc-freeze calls gc.freeze() once a board is up, as an app can after startup.

    .venv/bin/python benchmarks/board_stream.py [--tasks 20] [--rate 2000] [--seconds 10]
        [--boards 1] [--gc-freeze] [--py-spy DIR]

--py-spy DIR samples the service and every board while they stream (py-spy installed beside the
interpreter: `.venv/bin/pip install py-spy`), raw stacks to DIR/service.txt, DIR/board1.txt...
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import itertools
import json
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import AsyncIterator, Awaitable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import IO, Any, ClassVar, TypeVar

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from stream_lines import (  # type: ignore[import-not-found]
    BIG_TASK_LINES,
    home_paths,
    line_prefix,
    task_id_of,
)
from textual import events
from textual.binding import Binding, BindingType
from textual.geometry import Region
from textual.strip import Strip

from engine.config import Config
from engine.paths import Paths
from engine.service.client import ServiceClient
from tui.app import TaskyardApp
from tui.bridge import OutputBatch
from tui.screens.board import pane_id
from tui.widgets.command_block import MAX_OUTPUT_LINES

KEY_INTERVAL = 0.05
TICK_INTERVAL = 0.01
IDLE_SECONDS = 2.0
SHOW_WAIT = 1.0
SCREEN_SIZE = (120, 40)
SERVICE = Path(__file__).with_name("paced_service.py")
PAINT_GOAL = 0.25

T = TypeVar("T")


@contextlib.asynccontextmanager
async def opened(paths: Paths) -> AsyncIterator[ServiceClient]:
    """A client of the service already running for `paths`, as the board opens it."""
    client = await ServiceClient.open(paths, "board")
    try:
        yield client
    finally:
        await client.close()


class BenchmarkApp(TaskyardApp):
    """The real board plus one key binding whose handler logs its time."""

    CSS_PATH = str(
        Path(sys.modules[TaskyardApp.__module__].__file__ or "").parent / "styles/app.tcss"
    )
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("f9", "ping", "Ping", id="bench.ping", show=False)
    ]

    def __init__(self, paths: Paths, repo: Path) -> None:
        super().__init__(lambda: opened(paths), Config(), paths.config_dir, repo)
        self.key_handled: list[float] = []

    def action_ping(self) -> None:
        self.key_handled.append(time.perf_counter())


@dataclass
class Probes:
    """Key-press, event-loop and full garbage collection measurements over one phase."""

    key_sent: list[float] = field(default_factory=list)
    key_latencies: list[float] = field(default_factory=list)
    key_at: list[float] = field(default_factory=list)
    loop_lags: list[float] = field(default_factory=list)
    wakeup_lags: list[float] = field(default_factory=list)
    wakeup_at: list[float] = field(default_factory=list)
    full_gcs: list[float] = field(default_factory=list)
    gc_started: float = 0.0
    started: float = field(default_factory=time.perf_counter)

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
        probes.wakeup_at.append(now - probes.started)
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
    probes.key_at = [sent - probes.started for sent in probes.key_sent]
    return probes, result


@dataclass
class TabShow:
    """A tab shown: seconds until a frame painted its last line (None: not in time), and how."""

    seconds: float | None
    detail: str


def only_block_log(app: BenchmarkApp, task_id: str) -> Any:
    """The output log of the task's one command block, or None before its command started."""
    view = app.board.task_view(task_id)
    assert view is not None
    blocks = list(view.stream.blocks.values())
    return blocks[0].output if blocks else None


async def show_tab(app: BenchmarkApp, task: int, task_id: str) -> TabShow:
    """Activate a task's tab; time the frames that paint its output and its last line."""
    log = only_block_log(app, task_id)
    assert log is not None
    loop = asyncio.get_running_loop()
    painted: asyncio.Future[float] = loop.create_future()
    tail: asyncio.Future[float] = loop.create_future()
    last = line_prefix(task, BIG_TASK_LINES - 1)
    wanted = ((painted, f"[task {task:02d}]"), (tail, last))
    render_lines = log.render_lines

    def frame_done(future: asyncio.Future[float]) -> None:
        if not future.done():
            future.set_result(time.perf_counter())

    def watched_render_lines(crop: Region) -> list[Strip]:
        strips: list[Strip] = render_lines(crop)
        for future, text in wanted:
            if any(text in strip.text for strip in strips):
                loop.call_soon(frame_done, future)
        return strips

    log.render_lines = watched_render_lines
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


class PaintWatch:
    """Watches the first task's log while it streams: for each line number first painted, the
    seconds from its production (its stamp) to the end of the frame that painted it."""

    def __init__(self, task: int) -> None:
        self.pattern = re.compile(rf"\[task {task:02d}\] (\d{{7}}) @(\d+\.\d+)")
        self.seen: set[int] = set()
        self.latencies: list[float] = []
        self.waiting: list[float] = []
        self.frames = 0
        self.end_view = ""
        self.frame_times: list[float] = []

    def watch(self, log: Any) -> None:
        render_lines, loop = log.render_lines, asyncio.get_running_loop()

        def watched_render_lines(crop: Region) -> list[Strip]:
            strips: list[Strip] = render_lines(crop)
            for strip in strips:
                match = self.pattern.search(strip.text)
                if match is not None and (number := int(match[1])) not in self.seen:
                    self.seen.add(number)
                    if not self.waiting:
                        loop.call_soon(self.frame_done)
                    self.waiting.append(float(match[2]))
            return strips

        log.render_lines = watched_render_lines

    def gaps(self) -> tuple[list[float], list[float]]:
        """Seconds between frames that painted new lines, and when each began (s after the
        first)."""
        times = self.frame_times
        return [b - a for a, b in itertools.pairwise(times)], [a - times[0] for a in times[:-1]]

    def frame_done(self) -> None:
        now = time.time()
        self.frames += 1
        self.frame_times.append(now)
        self.latencies += [now - produced for produced in self.waiting]
        self.waiting.clear()


async def watch_painting(app: BenchmarkApp, task_id: str, watch: PaintWatch) -> Any:
    """Watch the task's log once its command block exists; return the log."""
    while (log := only_block_log(app, task_id)) is None:
        await asyncio.sleep(TICK_INTERVAL)
    watch.watch(log)
    return log


class LineCount:
    """Lines of command output the board received, each piece placed by its offset once."""

    def __init__(self) -> None:
        self.chars: dict[str, int] = {}
        self.lines = 0

    def take(self, batch: OutputBatch) -> None:
        for piece in batch.pieces:
            seen, end = self.chars.get(piece.chunk_id, 0), piece.offset + len(piece.text)
            if end > seen:
                self.lines += piece.text[max(0, seen - piece.offset) :].count("\n")
                self.chars[piece.chunk_id] = end


def count_received(app: BenchmarkApp, count: LineCount) -> None:
    apply_output = app.board.apply_output

    def counted(batch: OutputBatch) -> None:
        count.take(batch)
        apply_output(batch)

    app.board.apply_output = counted  # type: ignore[method-assign]


def all_ended(app: BenchmarkApp, task_ids: list[str]) -> bool:
    for task_id in task_ids:
        view = app.board.task_view(task_id)
        blocks = list(view.stream.blocks.values()) if view is not None else []
        if not blocks or any(block.has_class("-running") for block in blocks):
            return False
    return True


async def until_all_ended(app: BenchmarkApp, task_ids: list[str], timeout: float) -> bool:
    deadline = time.perf_counter() + timeout
    while not all_ended(app, task_ids):
        if time.perf_counter() > deadline:
            return False
        await asyncio.sleep(0.05)
    return True


async def stream_phase(
    app: BenchmarkApp, task_ids: list[str], args: argparse.Namespace, watch: PaintWatch
) -> tuple[bool, list[TabShow]]:
    """Until every command's block has ended: the paint watch and the hidden tab's shows."""
    watching = asyncio.create_task(watch_painting(app, task_ids[0], watch))
    ended, shows = await asyncio.gather(
        until_all_ended(app, task_ids, args.seconds * 3 + 30),
        show_big_tab(app, task_ids, args.seconds),
    )
    log = await watching
    del log.render_lines
    watch.end_view = (
        f"at the end: view at line {log.scroll_offset.y + 1:,} of {log.line_count:,} "
        f"(max scroll {log.max_scroll_y:,}), following {log._following()}, "
        f"tail wanted {log._tail_wanted}, {log.buffered_line_count:,} buffered"
    )
    return ended, shows


def rss_bytes() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


@dataclass
class BoardFigures:
    """What one board measured, as it crosses to the parent in JSON."""

    idle: dict[str, list[float]]
    streaming: dict[str, list[float]]
    received: int
    ended: bool
    rss_growth: int
    cpu: float
    shows: list[dict[str, Any]]
    paint_latencies: list[float]
    paint_frames: int
    paint_gaps: list[float]
    paint_gaps_at: list[float]
    paint_end_view: str


class Pipe:
    """The board's lines to and from the parent, on its own copies of stdin and stdout (the
    app redirects sys.stdout while it runs)."""

    def __init__(self) -> None:
        self.out: IO[str] = os.fdopen(os.dup(1), "w", buffering=1)
        self.into: IO[str] = os.fdopen(os.dup(0), "r")

    def say(self, message: str) -> None:
        self.out.write(message + "\n")

    async def expect(self, message: str) -> None:
        line = (await asyncio.to_thread(self.into.readline)).strip()
        if line != message:
            raise SystemExit(f"board: expected {message!r}, got {line!r}")


def probe_lists(probes: Probes) -> dict[str, list[float]]:
    return {
        "key_latencies": probes.key_latencies,
        "key_at": probes.key_at,
        "loop_lags": probes.loop_lags,
        "wakeup_lags": probes.wakeup_lags,
        "wakeup_at": probes.wakeup_at,
        "full_gcs": probes.full_gcs,
    }


async def run_board(args: argparse.Namespace, pipe: Pipe) -> BoardFigures:
    """One board: open the tabs, idle probes on `idle`, streaming probes on `go`."""
    home, task_ids = args.home, [task_id_of(task) for task in range(args.tasks + 1)]
    app, count, watch = BenchmarkApp(home_paths(home), home / "repo"), LineCount(), PaintWatch(0)
    async with app.run_test(size=SCREEN_SIZE) as pilot:
        for task_id in [*task_ids, task_ids[0]]:
            await app.board.open_task(task_id)
            await pilot.pause()
        count_received(app, count)
        if args.gc_freeze:
            gc.freeze()
        pipe.say("opened")
        await pipe.expect("idle")
        idle, _ = await probe_during(app, asyncio.sleep(IDLE_SECONDS))
        pipe.say("idled")
        await pipe.expect("go")
        rss_before, cpu_before = rss_bytes(), cpu_seconds()
        streaming, (ended, shows) = await probe_during(
            app, stream_phase(app, task_ids, args, watch)
        )
        await pilot.pause()
        rss_growth, cpu = rss_bytes() - rss_before, cpu_seconds() - cpu_before
    return BoardFigures(
        probe_lists(idle),
        probe_lists(streaming),
        count.lines,
        ended,
        rss_growth,
        cpu,
        [asdict(show) for show in shows],
        watch.latencies,
        watch.frames,
        *watch.gaps(),
        watch.end_view,
    )


def board_main(args: argparse.Namespace) -> None:
    pipe = Pipe()
    figures = asyncio.run(run_board(args, pipe))
    pipe.say(json.dumps(asdict(figures)))


@dataclass
class Results:
    """Everything the report prints."""

    boards: list[BoardFigures]
    produced: int
    on_disk: int
    service_cpu: float
    service_stalls: list[list[float]]
    machine_busy: float
    wall: float


def count_lines(path: Path) -> int:
    """Lines in a command's log file: its newlines, and a last line without one."""
    data = path.read_bytes()
    return data.count(b"\n") + (1 if data and not data.endswith(b"\n") else 0)


def machine_busy_seconds() -> float:
    """CPU seconds every core spent busy since boot (all processes, /proc/stat)."""
    with open("/proc/stat") as stat:
        fields = [int(value) for value in stat.readline().split()[1:]]
    idle, iowait = fields[3], fields[4]
    return (sum(fields[:8]) - idle - iowait) / os.sysconf("SC_CLK_TCK")


def board_names(boards: list[subprocess.Popen[str]]) -> dict[str, subprocess.Popen[str]]:
    return {f"board{index + 1}": board for index, board in enumerate(boards)}


def profile(
    args: argparse.Namespace, processes: dict[str, subprocess.Popen[str]]
) -> list[subprocess.Popen[bytes]]:
    """With --py-spy DIR: sample each process while it streams, to DIR/NAME.txt (raw stacks)."""
    if args.py_spy is None:
        return []
    args.py_spy.mkdir(parents=True, exist_ok=True)
    spy = Path(sys.executable).with_name("py-spy")
    seconds = str(int(args.seconds) + 1)
    record = [str(spy), "record", "-d", seconds, "-r", "100", "--format", "raw"]
    return [
        subprocess.Popen(
            [*record, "-p", str(process.pid), "-o", str(args.py_spy / f"{name}.txt")],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for name, process in processes.items()
    ]


def spawn(argv: list[str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, *argv], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )


def tell(process: subprocess.Popen[str], message: str) -> None:
    assert process.stdin is not None
    process.stdin.write(message + "\n")
    process.stdin.flush()


def hear(process: subprocess.Popen[str]) -> str:
    assert process.stdout is not None
    line = process.stdout.readline()
    if not line:
        raise SystemExit(f"{process.args[1]} ended early (exit {process.wait()})")
    return line.strip()


def expect(process: subprocess.Popen[str], message: str) -> None:
    line = hear(process)
    if line != message:
        raise SystemExit(f"expected {message!r} from {process.args[1]}, got {line!r}")


def run(args: argparse.Namespace, home: Path) -> Results:
    """The service process, then the boards; idle together, stream together."""
    common = ["--tasks", str(args.tasks), "--seconds", str(args.seconds)]
    service = spawn([str(SERVICE), str(home), *common, "--rate", str(args.rate)])
    boards: list[subprocess.Popen[str]] = []
    try:
        json.loads(hear(service))["ready"]
        freeze = ["--gc-freeze"] if args.gc_freeze else []
        board_argv = [__file__, "--as-board", "--home", str(home), *common, *freeze]
        boards = [spawn(board_argv) for _ in range(args.boards)]
        for phase, done in (("idle", "opened"), ("go", "idled")):
            for board in boards:
                expect(board, done)
            for board in boards:
                tell(board, phase)
        busy_before, wall_before = machine_busy_seconds(), time.perf_counter()
        profilers = profile(args, {"service": service, **board_names(boards)})
        tell(service, "go")
        finished = json.loads(hear(service))
        busy, wall = machine_busy_seconds() - busy_before, time.perf_counter() - wall_before
        figures = [BoardFigures(**json.loads(hear(board))) for board in boards]
        on_disk = sum(count_lines(Path(log)) for log in finished["logs"])
        for profiler in profilers:
            profiler.wait()
        return Results(
            figures, finished["produced"], on_disk, finished["cpu"], finished["stalls"], busy, wall
        )
    finally:
        for process in [*boards, service]:
            with contextlib.suppress(BrokenPipeError):
                tell(process, "stop")
        for process in [*boards, service]:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()


def p99_ms(values: list[float]) -> float:
    if len(values) < 2:
        return values[0] * 1000 if values else float("nan")
    return statistics.quantiles(values, n=100, method="inclusive")[98] * 1000


def verdict(ok: bool) -> str:
    return "ok" if ok else "MISSED"


def row(label: str, goal: str, cells: list[str]) -> str:
    return f"{label:<30}{goal:<16}" + "".join(f"{cell:<50}" for cell in cells)


def timing_cells(samples: list[list[float]], goal: float) -> list[str]:
    return [
        f"{p99_ms(values):7.1f} ms  {verdict(p99_ms(values) < goal * 1000)}" for values in samples
    ]


def spread(samples: list[list[float]], floors: list[list[float]] | None, counted: str) -> list[str]:
    cells = []
    for index, values in enumerate(samples):
        cell = f"med {statistics.median(values) * 1000:.1f}, max {max(values) * 1000:.1f} ms"
        if floors is not None:
            cell += f", idle p99 {p99_ms(floors[index]):.1f}"
        cells.append(f"{cell}; {len(values):,} {counted}")
    return cells


def last_paint(board: BoardFigures) -> str:
    """When the visible tab last painted a new line, in seconds after its first."""
    if not board.paint_gaps:
        return "-"
    return f"painted {board.paint_gaps_at[-1] + board.paint_gaps[-1]:.1f} s after the first"


def worst(waits: list[float], at: list[float], count: int = 3) -> str:
    """The longest waits, each with the second of the streaming phase it was at."""
    ranked = sorted(zip(waits, at, strict=True), reverse=True)[:count]
    return ", ".join(f"{wait * 1000:.0f} ms@{second:.1f}s" for wait, second in ranked)


def report(results: Results, args: argparse.Namespace) -> None:
    boards = results.boards
    print(
        f"real board over a service process: {args.tasks} tasks x {args.rate:,} lines/s x "
        f"{args.seconds:g} s + 1 hidden task x {BIG_TASK_LINES:,} lines, one tab visible, "
        f"headless {SCREEN_SIZE[0]}x{SCREEN_SIZE[1]}, {len(boards)} board process(es)"
        f"{', gc frozen' if args.gc_freeze else ''}"
    )
    print(row("", "goal", [f"board {index + 1}" for index in range(len(boards))]))
    keys = [board.streaming["key_latencies"] for board in boards]
    idle_keys = [board.idle["key_latencies"] for board in boards]
    print(row("key press -> handler p99", "< 50 ms", timing_cells(keys, 0.05)))
    print(row("", "", spread(keys, idle_keys, "keys")))
    print(
        row(
            "",
            "worst (due at)",
            [worst(b.streaming["key_latencies"], b.streaming["key_at"]) for b in boards],
        )
    )
    lags = [board.streaming["loop_lags"] for board in boards]
    print(row("event-loop lag p99", "< 50 ms", timing_cells(lags, 0.05)))
    print(row("", "", spread(lags, [board.idle["loop_lags"] for board in boards], "ticks")))
    print(
        row(
            "",
            "worst stalls",
            [worst(b.streaming["wakeup_lags"], b.streaming["wakeup_at"]) for b in boards],
        )
    )
    paints = [board.paint_latencies for board in boards]
    print(row("line written -> painted p99", "< 250 ms", timing_cells(paints, PAINT_GOAL)))
    print(row("", "", spread(paints, None, "lines painted")))
    print(row("", "", [f"in {board.paint_frames:,} frames" for board in boards]))
    gaps = [worst(board.paint_gaps, board.paint_gaps_at) for board in boards]
    print(row("", "longest gaps", gaps))
    print(row("", "last new line", [last_paint(board) for board in boards]))
    for index, board in enumerate(boards):
        print(f"  board {index + 1}'s visible tab {board.paint_end_view}")
    gcs = [", ".join(f"{pause * 1000:.0f}" for pause in b.streaming["full_gcs"]) for b in boards]
    print(row("full gc pauses (ms)", "", [pauses or "none" for pauses in gcs]))
    lines = [
        f"{board.received:,} / {results.on_disk:,}  "
        f"{verdict(board.received == results.on_disk and board.ended)}"
        for board in boards
    ]
    print(row("lines on board / on disk", "equal", lines))
    print(
        row(
            "",
            "",
            [f"produced {results.produced:,}{'' if b.ended else ', NOT ENDED'}" for b in boards],
        )
    )
    print(
        row("RSS growth", "no goal", [f"{board.rss_growth / 2**20:+.1f} MiB" for board in boards])
        + f"(each command's log keeps its last {MAX_OUTPUT_LINES:,} lines)"
    )
    print(
        row("CPU while streaming", "no goal", [f"{board.cpu:.1f} s" for board in boards])
        + f"service process: {results.service_cpu:.1f} s"
    )
    lags, at = zip(*results.service_stalls, strict=True) if results.service_stalls else ((), ())
    print(f"{'service loop worst stalls':<30}{worst(list(lags), list(at))}")
    ours = results.service_cpu + sum(board.cpu for board in boards)
    print(
        f"{'machine while streaming':<30}{os.cpu_count()} cores x {results.wall:.1f} s, "
        f"{results.machine_busy:.1f} core-s busy, of which other processes' "
        f"~{max(0.0, results.machine_busy - ours):.1f} core-s"
    )
    show_cells = []
    for board in boards:
        seconds = board.shows[0]["seconds"]
        shown = seconds is not None and seconds < 0.1
        show_cells.append(
            f"{seconds * 1000:7.1f} ms  {verdict(shown)}"
            if seconds is not None
            else "not shown  MISSED"
        )
    print(row(f"show hidden tab, {BIG_TASK_LINES:,} lines", "< 100 ms", show_cells))
    for index, board in enumerate(boards):
        first, again = board.shows
        print(
            f"  board {index + 1}: while streaming: {first['detail']}; "
            f"shown again (floor): {again['detail']}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=20)
    parser.add_argument("--rate", type=int, default=2000, help="lines per second per task")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--boards", type=int, default=1, help="board processes attached at once")
    parser.add_argument("--gc-freeze", action="store_true", help="gc.freeze() after startup")
    parser.add_argument(
        "--py-spy", type=Path, metavar="DIR", help="sample every process with py-spy into DIR"
    )
    parser.add_argument("--as-board", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--home", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.as_board:
        board_main(args)
        return
    with tempfile.TemporaryDirectory() as tmp:
        results = run(args, Path(tmp))
    report(results, args)


if __name__ == "__main__":
    main()
