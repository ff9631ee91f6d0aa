"""Opening a command's whole log in the board: `o` on its block until its last line is drawn,
for a stored 200,000-line output, vs reading that output from the service.

The board runs headless against an engine served on a real socket (as the board tests do);
the floor is the same output read through the same client and decoded, measured in the same
run. Also `home` to the first line. Goal: opening at most 3x the floor.

    .venv/bin/python benchmarks/log_view.py [--lines N] [--runs N]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.support.board import ServedBoard, store_command, store_task, stored_engine
from tui.screens.log_view import LogScreen
from tui.widgets.task_view import LOG_PANE

TASK = "bench001"
CHUNK = "c0ffee01"


def output(lines: int) -> str:
    return "".join(
        f"line {number:>7} of the build: compiling module {number % 97}\n"
        for number in range(1, lines + 1)
    )


async def one_run(lines: int) -> tuple[float, float, float]:
    """Seconds to read the output from the service, to open it (`o` to its last line drawn),
    and to go to its first line (`home`)."""
    with tempfile.TemporaryDirectory(prefix="taskyard-bench-") as tmp:
        engine = stored_engine(Path(tmp) / "home")
        store_task(engine, TASK)
        store_command(engine, TASK, CHUNK, ["make", "-k"], output(lines), exit_code=2)
        app = ServedBoard(engine, Path(tmp))
        async with app.run_test(size=(120, 40)) as pilot:
            await app.board.open_task(TASK)
            view = app.board.task_view(TASK)
            assert view is not None
            view.panes.active = LOG_PANE
            await pilot.pause()
            started = time.perf_counter()
            await view.read_output(CHUNK)
            floor = time.perf_counter() - started
            view.stream.blocks[CHUNK].query_one("CollapsibleTitle").focus()
            await pilot.pause()
            started = time.perf_counter()
            await pilot.press("o")
            screen = app.screen
            assert isinstance(screen, LogScreen)
            last = f"line {lines:>7}"
            while not drawn(screen, last):
                await asyncio.sleep(0.002)
            opened = time.perf_counter() - started
            started = time.perf_counter()
            await pilot.press("home")
            while not drawn(screen, "line       1"):
                await asyncio.sleep(0.002)
            home = time.perf_counter() - started
    return floor, opened, home


def drawn(screen: LogScreen, text: str) -> bool:
    """Whether a row of the log view, as rendered now, starts with text."""
    log = screen.log_view
    rows = range(log.scrollable_content_region.height)
    return log.line_count > 0 and any(log.render_line(y).text.startswith(text) for y in rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=200_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    results = [asyncio.run(one_run(args.lines)) for _ in range(args.runs)]
    floor, opened, home = (statistics.median(column) for column in zip(*results, strict=True))
    print(f"{args.lines:,} lines, median of {args.runs} runs")
    print(f"read from the service (floor)  {floor * 1000:7.0f} ms")
    print(
        f"o to the last line drawn       {opened * 1000:7.0f} ms  ({opened / floor:.1f}x the floor)"
    )
    print(f"home to the first line drawn   {home * 1000:7.0f} ms")


if __name__ == "__main__":
    main()
