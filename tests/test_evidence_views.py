"""The evidence behind a result where people review it: `taskyard show` (text and JSON) and the
board's result view, from stored tasks (no Docker)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from textual.widgets import Label, Static

from engine.api import Engine
from tests.support.board import (
    CALC_DIFF,
    FROZEN_NOW,
    ServedBoard,
    store_command,
    store_task,
    stored_engine,
)
from tests.support.service import client_of
from tui.commands.show import show_task
from tui.widgets.check_list import CheckList
from tui.widgets.citation_list import CitationList

TASK = "aaaa0001"
TESTS = ["python3", "-m", "unittest", "-q"]
LINT = ["bash", "-lc", "cd /workspace/repo && ruff check ."]
CLAIMING_ANSWER = (
    "Fixed `add` 【F:calc.py†L1-L2】. All tests pass now 【c0ffee03†L1-L3】; lint was "
    "fixed too 【c0ffee09†L1】 【F:calc.py†L40】 【F:missing.py†L1】."
)


def citation(kind: str, target: str, start: int, end: int, reason: str = "") -> dict[str, Any]:
    return {
        "kind": kind,
        "target": target,
        "start": start,
        "end": end,
        "valid": not reason,
        "reason": reason,
    }


CITATIONS = [
    citation("file", "calc.py", 1, 2),
    citation("chunk", "c0ffee03", 1, 3),
    citation("chunk", "c0ffee09", 1, 1, "no command c0ffee09"),
    citation("file", "calc.py", 40, 40, "calc.py has 2 lines"),
    citation("file", "missing.py", 1, 1, "no such file"),
]


def store_runs(engine: Engine, runs: list[tuple[str, list[str], str, int | None]]) -> None:
    """Commands of TASK in order: (chunk id, argv, output, exit code)."""
    for offset, (chunk_id, command, output, exit_code) in enumerate(runs):
        started = FROZEN_NOW - 500 + offset * 10
        store_command(
            engine,
            TASK,
            chunk_id,
            command,
            output,
            exit_code=exit_code,
            started=started,
            finished=started + 1,
        )


def claiming_task(home: Path) -> Engine:
    """The tests fail then pass, but the last lint run fails while the answer says all pass;
    three of five citations are invalid."""
    engine = stored_engine(home)
    store_task(engine, TASK, diff=CALC_DIFF, final_message=CLAIMING_ANSWER, citations=CITATIONS)
    store_runs(
        engine,
        [
            ("c0ffee00", ["git", "checkout", "-q"], "", 0),
            ("c0ffee01", TESTS, "FAILED (failures=1)\n", 1),
            ("c0ffee02", ["cat", "calc.py"], "def add(a, b):\n", 0),
            ("c0ffee03", TESTS, "Ran 1 test\n\nOK\n", 0),
            ("c0ffee04", LINT, "calc.py:3:5: F841 unused variable\n", 1),
        ],
    )
    return engine


def section(output: str, title: str) -> list[str]:
    """The lines of one section of `taskyard show`: its title line up to the blank line."""
    lines = output.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(title))
    end = next((i for i in range(start, len(lines)) if not lines[i].strip()), len(lines))
    return lines[start:end]


async def test_show_marks_each_check_and_warns_on_a_claim_its_last_run_contradicts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    async with client_of(claiming_task(tmp_path / "home")) as client:
        assert await show_task(client, TASK, as_json=False) == 0
    output = capsys.readouterr().out
    checks = section(output, "checks")
    assert checks[0] == "checks  ✗ 1 of 2 commands failed on its last run (3 runs)"
    assert [line.split()[:5] for line in checks[1:]] == [
        ["✗", "fail", "exit", "1", "c0ffee01"],
        ["✓", "pass", "exit", "0", "c0ffee03"],
        ["✗", "fail", "exit", "1", "c0ffee04"],
    ]
    assert [line.split()[5] for line in checks[1:]] == ["earlier", "last", "last"]
    assert checks[1].endswith("python3 -m unittest -q")
    assert checks[3].endswith("cd /workspace/repo && ruff check .")
    warning = (
        '⚠ WARNING: the answer says "All tests pass" but the last run of '
        "`cd /workspace/repo && ruff check .` (c0ffee04) ended fail with exit 1"
    )
    lines = output.splitlines()
    assert lines.index(warning) < lines.index("answer")
    assert section(output, "citations") == [
        "citations  3 of 5 citations invalid",
        "  ✓ file  calc.py L1-L2",
        "  ✓ chunk c0ffee03 L1-L3",
        "  ✗ chunk c0ffee09 L1-L1  INVALID: no command c0ffee09",
        "  ✗ file  calc.py L40-L40  INVALID: calc.py has 2 lines",
        "  ✗ file  missing.py L1-L1  INVALID: no such file",
    ]


async def test_show_json_carries_the_evidence(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    async with client_of(claiming_task(tmp_path / "home")) as client:
        assert await show_task(client, TASK, as_json=True) == 0
    shown = json.loads(capsys.readouterr().out)
    evidence = shown["evidence"]
    assert [(run["chunk_id"], run["outcome"], run["exit_code"]) for run in evidence["checks"]] == [
        ("c0ffee01", "fail", 1),
        ("c0ffee03", "pass", 0),
        ("c0ffee04", "fail", 1),
    ]
    assert evidence["checks_pass"] is False and evidence["unsupported_claim"] is True
    assert evidence["claim"] == "All tests pass" and "(c0ffee04)" in evidence["warning"]
    assert (evidence["citations_valid"], evidence["citations_invalid"]) == (2, 3)
    assert len(shown["commands"]) == 5


async def test_show_backs_a_claim_the_last_runs_support(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    engine = stored_engine(tmp_path / "home")
    answer = "Fixed `add` 【F:calc.py†L1-L2】; the tests pass now."
    store_task(engine, TASK, final_message=answer, citations=CITATIONS[:1])
    store_runs(
        engine,
        [
            ("c0ffee01", TESTS, "FAILED\n", 1),
            ("c0ffee02", ["timeout", "5", "pytest", "-x"], "", None),
            ("c0ffee03", TESTS, "OK\n", 0),
            ("c0ffee04", ["timeout", "5", "pytest", "-x"], "ok\n", 0),
        ],
    )
    async with client_of(engine) as client:
        await show_task(client, TASK, as_json=False)
    output = capsys.readouterr().out
    checks = section(output, "checks")
    assert checks[0] == "checks  ✓ the last run of each of 2 commands passed (4 runs)"
    assert checks[2].split()[:4] == ["?", "unfinished", "—", "c0ffee02"]
    assert "WARNING" not in output
    assert section(output, "citations") == [
        "citations  all 1 citation verified",
        "  ✓ file  calc.py L1-L2",
    ]


async def test_show_says_when_no_check_ran(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    engine = stored_engine(tmp_path / "home")
    store_task(engine, TASK, final_message="Everything works now.")
    store_runs(engine, [("c0ffee01", ["ls"], "calc.py\n", 0)])
    async with client_of(engine) as client:
        await show_task(client, TASK, as_json=False)
    output = capsys.readouterr().out
    assert section(output, "checks") == ["checks  none: the agent ran no test or check command"]
    assert (
        '⚠ WARNING: the answer says "Everything works" but the agent ran no test or check '
        "command" in output
    )


async def test_result_view_shows_checks_the_warning_and_invalid_citations(
    tmp_path: Path,
) -> None:
    engine = claiming_task(tmp_path / "home")
    app = ServedBoard(engine, tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await app.board.open_task(TASK)
        await pilot.pause()
        view = app.board.task_view(TASK)
        assert view is not None
        result = view.result
        assert result.has_class("-unsupported-claim")
        warning = result.query_one(".evidence-warning", Static)
        assert warning.display and "(c0ffee04) ended fail with exit 1" in str(warning.content)
        assert str(result.query_one(".checks-title", Label).content) == "Checks  1 of 2 failing"
        checks = result.query_one(CheckList)
        labels = [str(checks.get_option_at_index(i).prompt) for i in range(checks.option_count)]
        assert [label.splitlines()[0] for label in labels] == [
            "✗ fail exit 1  c0ffee01  earlier run",
            "✓ pass exit 0  c0ffee03  last run",
            "✗ fail exit 1  c0ffee04  last run",
        ]
        assert labels[2].splitlines()[1].strip() == "cd /workspace/repo && ruff check ."
        titles = str(result.query_one(".citations-title", Label).content)
        assert titles == "Citations  3 of 5 invalid"
        citations = result.query_one(CitationList)
        invalid = [str(citations.get_option_at_index(i).prompt) for i in (2, 3, 4)]
        assert invalid == [
            "✗ output c0ffee09 L1 (no command c0ffee09)",
            "✗ file calc.py L40 (calc.py has 2 lines)",
            "✗ file missing.py L1 (no such file)",
        ]
        checks.focus()
        await pilot.press("down", "down", "enter")
        cited = result.query_one(".cited-lines", Static)
        assert str(cited.content) == "    1 │ calc.py:3:5: F841 unused variable"
        cited_title = str(result.query_one(".cited-title", Label).content)
        assert cited_title.startswith("Output  c0ffee04 exit 1")


async def test_result_view_without_an_unsupported_claim_hides_the_warning(
    tmp_path: Path,
) -> None:
    engine = stored_engine(tmp_path / "home")
    store_task(engine, TASK, final_message="Fixed; the tests pass now.", diff=CALC_DIFF)
    store_runs(engine, [("c0ffee01", TESTS, "FAILED\n", 1), ("c0ffee02", TESTS, "OK\n", 0)])
    app = ServedBoard(engine, tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await app.board.open_task(TASK)
        await pilot.pause()
        view = app.board.task_view(TASK)
        assert view is not None
        assert not view.result.has_class("-unsupported-claim")
        assert not view.result.query_one(".evidence-warning", Static).display
        title = view.result.query_one(".checks-title", Label)
        assert str(title.content) == "Checks  passing"
