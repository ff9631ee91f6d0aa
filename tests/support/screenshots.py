"""The README's screenshots: SVGs of the real board at 120x36, made from stored tasks (no Docker,
no model, the clock frozen) served to the app over a real socket, as the snapshot tests do.

    .venv/bin/python -m tests.support.screenshots [--out DIR]

writes board.svg, stream.svg (a task's tab, its command streaming), result.svg and accept.svg
(the accept dialog over that result) into DIR, by default tests/screenshots/.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from textual.pilot import Pilot

from engine.api import Engine
from engine.views.events import AgentMessage
from tests.support.board import FROZEN_NOW, ServedBoard, store_command, store_task, stored_engine
from tui.app import TaskyardApp

SIZE = (120, 36)
OUT = Path(__file__).resolve().parents[1] / "screenshots"
REPO = Path("/home/you/src/invoicer")
TITLE = "taskyard"
READY = "3f9c2a71"
RUNNING = "8b41d0e6"

TOTALS_DIFF = "\n".join(
    [
        "diff --git a/invoicer/totals.py b/invoicer/totals.py",
        "index 3b18e51..a9c4f2d 100644",
        "--- a/invoicer/totals.py",
        "+++ b/invoicer/totals.py",
        "@@ -1,5 +1,7 @@",
        " from decimal import Decimal",
        " ",
        '+CENT = Decimal("0.01")',
        "+",
        " ",
        " def line_total(line):",
        "     return line.price * line.quantity",
        "@@ -7,3 +9,4 @@ def line_total(line):",
        " ",
        " def invoice_total(invoice):",
        "-    return Decimal(sum(float(line_total(line)) for line in invoice.lines))",
        "+    total = sum((line_total(line) for line in invoice.lines), Decimal(0))",
        "+    return total.quantize(CENT)",
        "",
    ]
)
FAILING_TOTALS = """\
..F.                                                                     [100%]
=================================== FAILURES ===================================
_______________________ test_cents_add_up_exactly ______________________________

    def test_cents_add_up_exactly():
        invoice = Invoice([Line("a", Decimal("0.10"), 1), Line("b", Decimal("0.20"), 1)])
>       assert invoice_total(invoice) == Decimal("0.30")
E       AssertionError: assert Decimal('0.3000000000000000444089209850') == Decimal('0.30')

tests/test_totals.py:21: AssertionError
=========================== short test summary info ============================
FAILED tests/test_totals.py::test_cents_add_up_exactly
1 failed, 3 passed in 0.05s
"""
ANSWER = (
    "`invoice_total` summed the line totals as floats 【F:invoicer/totals.py†L9-L10】, so "
    "0.10 + 0.20 came back as 0.30000000000000004 【c0de0002†L8】. It now adds Decimals and "
    "rounds to the cent: the totals tests pass 【c0de0003†L1-L2】, and so does the whole "
    "suite 【c0de0004†L2】."
)
CITATIONS = [
    {"kind": "file", "target": "invoicer/totals.py", "start": 9, "end": 10},
    {"kind": "chunk", "target": "c0de0002", "start": 8, "end": 8},
    {"kind": "chunk", "target": "c0de0003", "start": 1, "end": 2},
    {"kind": "chunk", "target": "c0de0004", "start": 2, "end": 2},
]
RG_OUTPUT = "invoicer/totals.py:8:def invoice_total(invoice):\n"
PASSING = "." * 4 + " " * 69 + "[100%]\n4 passed in 0.03s\n"
SUITE_PASSING = "." * 31 + " " * 42 + "[100%]\n31 passed in 0.41s\n"
CSV_FLAG = 'invoicer/cli.py:41:    export.add_argument("--csv", action="store_true")\n'
STREAMING_TESTS = [
    ("test_csv_header", "PASSED", "11"),
    ("test_csv_rows", "PASSED", "22"),
    ("test_csv_escapes_commas", "PASSED", "33"),
    ("test_json_flag_prints_a_list", "FAILED", "44"),
]
STREAMING = (
    "============================= test session starts ==============================\n"
    "platform linux -- Python 3.11.2, pytest-8.3.4, pluggy-1.5.0 -- /usr/bin/python3\n"
    "rootdir: /workspace/repo\n"
    "collecting ... collected 9 items\n\n"
    + "".join(
        f"{f'tests/test_export.py::{name} {outcome}':<74}[{percent:>3}%]\n"
        for name, outcome, percent in STREAMING_TESTS
    )
    + "tests/test_export.py::test_json_rows_keep_decimals "
)


def store_in_repo(engine: Engine, task_id: str, **fields: Any) -> None:
    """A stored task of the person's repository, REPO."""
    store_task(engine, task_id, repo=str(REPO), **fields)


def store_ready_fix(engine: Engine) -> None:
    """A finished fix: the failing test found, the patch, the tests passing, cited."""
    store_in_repo(
        engine,
        READY,
        prompt="Fix the rounding error in invoice totals",
        created=FROZEN_NOW - 1500,
        updated=FROZEN_NOW - 1310,
        diff=TOTALS_DIFF,
        final_message=ANSWER,
        citations=[{**citation, "valid": True, "reason": ""} for citation in CITATIONS],
        usage={"input_tokens": 24_800, "output_tokens": 1_930},
        branch=f"taskyard/{READY}",
        verdict="✓ checks pass",
    )
    runs = [
        ("c0de0001", ["rg", "-n", "def invoice_total", "invoicer/"], RG_OUTPUT, 0),
        ("c0de0002", ["python3", "-m", "pytest", "-q", "tests/test_totals.py"], FAILING_TOTALS, 1),
        ("c0de0003", ["python3", "-m", "pytest", "-q", "tests/test_totals.py"], PASSING, 0),
        ("c0de0004", ["python3", "-m", "pytest", "-q"], SUITE_PASSING, 0),
    ]
    store_runs(engine, READY, FROZEN_NOW - 1480, runs)


def store_runs(
    engine: Engine, task_id: str, start: float, runs: list[tuple[str, list[str], str, int]]
) -> None:
    """The task's checkout, then each (chunk id, command, output, exit code), 20 s apart."""
    checkout = ["sh", "-c", "git checkout -q"]
    store_command(
        engine,
        task_id,
        f"{task_id[:4]}0000",
        checkout,
        "",
        phase="checkout",
        started=start,
        finished=start + 0.2,
    )
    for offset, (chunk_id, command, output, exit_code) in enumerate(runs, start=1):
        started = start + offset * 20
        store_command(
            engine,
            task_id,
            chunk_id,
            command,
            output,
            exit_code=exit_code,
            started=started,
            finished=started + 1.5,
        )


def store_running(engine: Engine) -> None:
    """A task at work: the agent's plan, a search, and a test run streaming its output."""
    store_in_repo(
        engine,
        RUNNING,
        prompt="Add a --json flag to the export command",
        status="running",
        created=FROZEN_NOW - 130,
        updated=FROZEN_NOW - 125,
        branch=f"taskyard/{RUNNING}",
        usage={"input_tokens": 8_300, "output_tokens": 640},
    )
    plan = (
        "I'll find where `export` formats its rows, add `--json` beside `--csv`, and run "
        "the export tests before and after."
    )
    engine.store.record_event(AgentMessage(task_id=RUNNING, ts=FROZEN_NOW - 110, text=plan, turn=1))
    runs = [("e0e00001", ["rg", "-n", "--csv", "invoicer/cli.py"], CSV_FLAG, 0)]
    store_runs(engine, RUNNING, FROZEN_NOW - 120, runs)
    store_command(
        engine,
        RUNNING,
        "e0e00002",
        ["python3", "-m", "pytest", "-v", "tests/test_export.py"],
        STREAMING,
        started=FROZEN_NOW - 40,
        finished=None,
        exit_code=None,
    )


def store_others(engine: Engine) -> None:
    """The rest of a working day: a question answered, a claim its runs contradict, a task
    stopped at its turn limit, one accepted, one queued."""
    store_in_repo(
        engine,
        "5d7e9f10",
        prompt="Why does the PDF export skip the last page?",
        mode="ask",
        created=FROZEN_NOW - 900,
        updated=FROZEN_NOW - 845,
        final_message="The page loop stops one early 【F:invoicer/pdf.py†L31-L33】.",
        usage={"input_tokens": 6_100, "output_tokens": 420},
    )
    store_in_repo(
        engine,
        "a2c4e6f8",
        prompt="Make the linter happy",
        created=FROZEN_NOW - 700,
        updated=FROZEN_NOW - 610,
        diff=TOTALS_DIFF,
        final_message="All lint checks pass.",
        usage={"input_tokens": 12_700, "output_tokens": 880},
        verdict="⚠ claim ≠ runs",
    )
    store_in_repo(
        engine,
        "9e8d7c6b",
        prompt="Upgrade to pydantic 2",
        status="failed",
        created=FROZEN_NOW - 3000,
        updated=FROZEN_NOW - 2200,
        error="the agent was stopped at max_turns",
        usage={"input_tokens": 96_000, "output_tokens": 5_100},
    )
    store_in_repo(
        engine,
        "1b3d5f7a",
        prompt="Fix the flaky websocket reconnect test",
        status="accepted",
        created=FROZEN_NOW - 5400,
        updated=FROZEN_NOW - 4700,
        usage={"input_tokens": 31_200, "output_tokens": 2_050},
        verdict="✓ checks pass",
    )
    store_in_repo(
        engine,
        "c0ffee77",
        prompt="Document every config key in the README",
        status="queued",
        created=FROZEN_NOW - 20,
        updated=FROZEN_NOW - 20,
    )


def scene(home: Path) -> Engine:
    """The stored tasks every screenshot shows."""
    engine = stored_engine(home)
    store_ready_fix(engine)
    store_running(engine)
    store_others(engine)
    return engine


async def settle(pilot: Pilot[Any]) -> None:
    """Let the board reach its hosts and draw what it was sent."""
    for worker in [w for w in pilot.app.workers if w.group == "hosts"]:
        await worker.wait()
    await pilot.pause(1.2)


async def open_tab(pilot: Pilot[Any], task_id: str, *keys: str) -> None:
    app = pilot.app
    assert isinstance(app, TaskyardApp)
    await app.board.open_task(task_id)
    await pilot.pause()
    await pilot.press(*keys)


Steps = Callable[[Pilot[Any]], Awaitable[None]]
SHOTS: dict[str, Steps] = {
    "board": lambda pilot: pilot.press(*["down"] * 4),
    "stream": lambda pilot: open_tab(pilot, RUNNING),
    "result": lambda pilot: open_tab(pilot, READY, "shift+tab", "down"),
    "accept": lambda pilot: open_tab(pilot, READY, "shift+tab", "down", "a"),
}
"""Each screenshot's name and what is done on the board before it is taken."""


async def screenshot(steps: Steps, home: Path) -> str:
    """The SVG of the board on the scene, after `steps`."""
    app = ServedBoard(scene(home), REPO)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await steps(pilot)
        await pilot.wait_for_scheduled_animations()
        await pilot.pause()
        return app.export_screenshot(title=TITLE)


async def make_screenshots(out: Path) -> list[Path]:
    """Write every screenshot into `out`; their paths."""
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, steps in SHOTS.items():
        with tempfile.TemporaryDirectory(prefix="taskyard-screenshot-") as home:
            svg = await screenshot(steps, Path(home))
        path = out / f"{name}.svg"
        path.write_text(svg, encoding="utf-8")
        written.append(path)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT, help=f"default: {OUT}")
    args = parser.parse_args(argv)
    for path in asyncio.run(make_screenshots(args.out)):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
