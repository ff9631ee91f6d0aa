"""Snapshots at 120x40 of the board, a task tab mid-run, the result panel and the help screen;
the board, the composer (with and without uncommitted changes) and help at 80x24 (a default
terminal) too.

Tasks are stored records under a temporary TASKYARD_HOME and the clock is frozen, so nothing
here needs Docker and elapsed times do not move.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import TextArea

from engine.api import Engine
from engine.git import gitops
from engine.views.request import UncommittedWork
from tests.support.board import (
    CALC_DIFF,
    FROZEN_NOW,
    ServedBoard,
    store_command,
    store_task,
    stored_engine,
    wait_until,
)
from tui.app import TaskyardApp

SIZE = (120, 40)
SIZES = [SIZE, (80, 24)]
REPO = Path("/work/calc")
SnapCompare = Callable[..., bool]

FAILING_RUN = (
    "F\n"
    "======================================================================\n"
    "FAIL: test_add (test_calc.AddTest.test_add)\n"
    "----------------------------------------------------------------------\n"
    "Traceback (most recent call last):\n"
    '  File "/workspace/repo/test_calc.py", line 8, in test_add\n'
    "    self.assertEqual(add(2, 3), 5)\n"
    "AssertionError: -1 != 5\n"
    "\n"
    "----------------------------------------------------------------------\n"
    "Ran 1 test in 0.001s\n"
    "\n"
    "FAILED (failures=1)\n"
)
PASSING_RUN = (
    "----------------------------------------------------------------------\n"
    "Ran 1 test in 0.000s\n\nOK\n"
)
RUNNING_OUTPUT = (
    "collected 212 items\n\ntests/test_api.py ........................\ntests/test_db.py .........."
)
ANSWER = (
    "Fixed `add`, which subtracted 【F:calc.py†L1-L2】. The test failed before "
    "【c0ffee01†L8-L8】 and passes now 【c0ffee02†L2-L4】; see also 【F:missing.py†L1】."
)
CITATIONS = [
    {"kind": "file", "target": "calc.py", "start": 1, "end": 2, "valid": True, "reason": ""},
    {"kind": "chunk", "target": "c0ffee01", "start": 8, "end": 8, "valid": True, "reason": ""},
    {"kind": "chunk", "target": "c0ffee02", "start": 2, "end": 4, "valid": True, "reason": ""},
    {
        "kind": "file",
        "target": "missing.py",
        "start": 1,
        "end": 1,
        "valid": False,
        "reason": "no such file",
    },
]


def stored_board(home: Path) -> Engine:
    """Five tasks in every kind of state; the ready one has commands, a diff and citations."""
    engine = stored_engine(home)
    store_task(
        engine,
        "a1b2c3d4",
        prompt="Fix the failing test in calc.py\nThe add function looks wrong.",
        created=FROZEN_NOW - 900,
        updated=FROZEN_NOW - 772,
        diff=CALC_DIFF,
        final_message=ANSWER,
        citations=CITATIONS,
        usage={"input_tokens": 18_400, "output_tokens": 1_250},
        branch="taskyard/a1b2c3d4",
    )
    store_command(
        engine,
        "a1b2c3d4",
        "c0ffee00",
        ["sh", "-c", "git checkout -q"],
        "",
        phase="checkout",
        started=FROZEN_NOW - 890,
        finished=FROZEN_NOW - 889.8,
    )
    store_command(
        engine,
        "a1b2c3d4",
        "c0ffee01",
        ["python3", "-m", "unittest", "-q"],
        FAILING_RUN,
        exit_code=1,
        started=FROZEN_NOW - 880,
        finished=FROZEN_NOW - 879.6,
    )
    store_command(
        engine,
        "a1b2c3d4",
        "c0ffee02",
        ["python3", "-m", "unittest", "-q"],
        PASSING_RUN,
        started=FROZEN_NOW - 800,
        finished=FROZEN_NOW - 799.7,
    )
    store_task(
        engine,
        "e5f6a7b8",
        prompt="Why does the parser drop the last token?",
        mode="ask",
        ref="v1.2",
        created=FROZEN_NOW - 600,
        updated=FROZEN_NOW - 560,
        final_message="The loop stops one token early 【F:parser.py†L40-L44】.",
        usage={"input_tokens": 5_200, "output_tokens": 310},
    )
    store_task(
        engine,
        "c9d0e1f2",
        prompt="Add a --verbose flag to the CLI",
        status="failed",
        created=FROZEN_NOW - 400,
        updated=FROZEN_NOW - 340,
        error="the agent was stopped at max_turns",
        usage={"input_tokens": 91_000, "output_tokens": 4_400},
    )
    store_task(
        engine,
        "f3a4b5c6",
        prompt="Upgrade the lockfile",
        status="cancelled",
        created=FROZEN_NOW - 300,
        updated=FROZEN_NOW - 290,
        error="cancelled",
    )
    store_task(
        engine,
        "0d1e2f3a",
        prompt="Speed up the slow integration tests",
        status="running",
        created=FROZEN_NOW - 95,
        updated=FROZEN_NOW - 90,
        branch="taskyard/0d1e2f3a",
    )
    store_command(
        engine,
        "0d1e2f3a",
        "beef0001",
        ["sh", "-c", "git checkout -q"],
        "",
        phase="checkout",
        started=FROZEN_NOW - 90,
        finished=FROZEN_NOW - 89.9,
    )
    store_command(
        engine,
        "0d1e2f3a",
        "beef0002",
        ["pytest", "-x", "--durations=5"],
        RUNNING_OUTPUT,
        started=FROZEN_NOW - 60,
        finished=None,
        exit_code=None,
    )
    return engine


LINT_ANSWER = (
    "Sorted the imports 【F:calc.py†L1-L2】; all tests pass and lint is clean "
    "【c0ffee13†L1】, as 【c0ffee99†L1】 shows."
)
LINT_CITATIONS = [
    {"kind": "file", "target": "calc.py", "start": 1, "end": 2, "valid": True, "reason": ""},
    {"kind": "chunk", "target": "c0ffee13", "start": 1, "end": 1, "valid": True, "reason": ""},
    {
        "kind": "chunk",
        "target": "c0ffee99",
        "start": 1,
        "end": 1,
        "valid": False,
        "reason": "no command c0ffee99",
    },
]


def store_unsupported_claim(engine: Engine) -> None:
    """A ready task whose answer says the checks pass while its last lint run failed."""
    store_task(
        engine,
        "b7c8d9e0",
        prompt="Make the linter happy",
        created=FROZEN_NOW - 200,
        updated=FROZEN_NOW - 120,
        diff=CALC_DIFF,
        final_message=LINT_ANSWER,
        citations=LINT_CITATIONS,
        branch="taskyard/b7c8d9e0",
    )
    runs = [
        ("c0ffee11", ["ruff", "check", "."], "calc.py:1:1: I001 unsorted imports\n", 1),
        ("c0ffee12", ["python3", "-m", "unittest", "-q"], PASSING_RUN, 0),
        ("c0ffee13", ["ruff", "check", "."], "calc.py:3:5: F841 unused variable\n", 1),
    ]
    for offset, (chunk_id, command, output, exit_code) in enumerate(runs):
        started = FROZEN_NOW - 190 + offset * 20
        store_command(
            engine,
            "b7c8d9e0",
            chunk_id,
            command,
            output,
            exit_code=exit_code,
            started=started,
            finished=started + 1,
        )


def board(tmp_path: Path) -> TaskyardApp:
    return ServedBoard(stored_board(tmp_path / "home"), REPO)


def open_task(task_id: str, *keys: str) -> Callable[[Pilot[Any]], Any]:
    async def run_before(pilot: Pilot[Any]) -> None:
        app = pilot.app
        assert isinstance(app, TaskyardApp)
        await hosts_reached(pilot)
        await app.board.open_task(task_id)
        await pilot.pause()
        await pilot.press(*keys)
        await pilot.pause()

    return run_before


@pytest.fixture
def app(tmp_path: Path) -> TaskyardApp:
    return board(tmp_path)


async def hosts_reached(pilot: Pilot[Any]) -> None:
    """Let the board finish reaching its hosts, so the header shows their state."""
    for worker in [w for w in pilot.app.workers if w.group == "hosts"]:
        await worker.wait()
    await pilot.pause(1.2)


@pytest.mark.parametrize("size", SIZES, ids=["120x40", "80x24"])
def test_board(snap_compare: SnapCompare, app: TaskyardApp, size: tuple[int, int]) -> None:
    assert snap_compare(app, terminal_size=size, run_before=hosts_reached)


@pytest.mark.parametrize("size", SIZES, ids=["120x40", "80x24"])
def test_composer(snap_compare: SnapCompare, app: TaskyardApp, size: tuple[int, int]) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        await hosts_reached(pilot)
        await pilot.press("n", *"Fix the flaky test")
        pilot.app.screen.query_one(TextArea).cursor_blink = False
        await pilot.pause()

    assert snap_compare(app, terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES, ids=["120x40", "80x24"])
def test_composer_with_uncommitted_changes(
    snap_compare: SnapCompare,
    app: TaskyardApp,
    size: tuple[int, int],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The toggle and its note, still with every field and the keys at 80x24."""
    work = UncommittedWork(4, ("calc.py", "notes.txt", "docs/plan.md"))
    monkeypatch.setattr(gitops, "uncommitted_work", lambda repo: work)

    async def run_before(pilot: Pilot[Any]) -> None:
        await hosts_reached(pilot)
        await pilot.press("n", *"Fix the flaky test")
        screen = pilot.app.screen
        screen.query_one(TextArea).cursor_blink = False
        await wait_until(pilot, lambda: screen.has_class("-uncommitted"), "the note")

    assert snap_compare(app, terminal_size=size, run_before=run_before)


def test_task_tab_mid_run(snap_compare: SnapCompare, app: TaskyardApp) -> None:
    assert snap_compare(app, terminal_size=SIZE, run_before=open_task("0d1e2f3a"))


def test_result_panel(snap_compare: SnapCompare, app: TaskyardApp) -> None:
    """The citations focused (shift+tab from the answer), the second one's lines shown."""
    keys = ("shift+tab", "down")
    assert snap_compare(app, terminal_size=SIZE, run_before=open_task("a1b2c3d4", *keys))


def test_result_panel_first_tab_on_the_files(snap_compare: SnapCompare, app: TaskyardApp) -> None:
    """At 80x24: the first Tab lands on the file list, which shows the file's change."""
    keys = ("tab",)
    assert snap_compare(app, terminal_size=(80, 24), run_before=open_task("a1b2c3d4", *keys))


def test_result_panel_with_an_unsupported_claim(snap_compare: SnapCompare, tmp_path: Path) -> None:
    """The warning above the answer, the failing last lint run's output, the invalid citation."""
    engine = stored_board(tmp_path / "home")
    store_unsupported_claim(engine)
    app = ServedBoard(engine, REPO)
    keys = ("shift+tab", "shift+tab", "down", "down")
    assert snap_compare(app, terminal_size=SIZE, run_before=open_task("b7c8d9e0", *keys))


@pytest.mark.parametrize("size", SIZES, ids=["120x40", "80x24"])
def test_help_screen(snap_compare: SnapCompare, app: TaskyardApp, size: tuple[int, int]) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        await hosts_reached(pilot)
        await pilot.press("question_mark")

    assert snap_compare(app, terminal_size=size, run_before=run_before)
