"""`taskyard run`'s closing summary says when the evidence needs a second look, and why."""

from __future__ import annotations

import pytest

from engine.views.events import TaskFinished
from tui.commands.run import HumanPrinter


def finished(verdict: str, detail: str) -> TaskFinished:
    return TaskFinished(
        task_id="aaaa0001",
        status="ready",
        diff="",
        final_message="All tests pass.",
        citations=[],
        usage={},
        verdict=verdict,
        verdict_detail=detail,
    )


def test_a_concern_closes_the_summary_with_its_reason(capsys: pytest.CaptureFixture[str]) -> None:
    detail = "the last run of `pytest -q` (c0ffee01) ended fail"
    HumanPrinter(None).print(finished("⚠ checks fail", detail))
    assert capsys.readouterr().out.splitlines()[-1] == f"evidence: ⚠ checks fail: {detail}"


def test_passing_checks_say_so_and_no_verdict_says_nothing(
    capsys: pytest.CaptureFixture[str],
) -> None:
    HumanPrinter(None).print(finished("✓ checks pass", ""))
    assert capsys.readouterr().out.splitlines()[-1] == "evidence: ✓ checks pass"
    HumanPrinter(None).print(finished("", ""))
    assert "evidence" not in capsys.readouterr().out
