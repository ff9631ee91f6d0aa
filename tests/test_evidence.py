"""Which commands count as checks, what the answer claims, and when the two disagree."""

from __future__ import annotations

import pytest

from engine.run.evidence import evidence_for, is_check_command, success_claim
from engine.views.task import CommandRecord, TaskRecord


def command(
    chunk_id: str, script: str, exit_code: int | None, phase: str = "agent"
) -> CommandRecord:
    return CommandRecord(
        chunk_id=chunk_id,
        task_id="t1",
        phase=phase,
        command=["bash", "-lc", script],
        workdir="/repo",
        started=0.0,
        finished=1.0,
        exit_code=exit_code,
        timed_out=False,
        output_lines=1,
        output_bytes=1,
        log_path="",
    )


def task(answer: str, citations: list[dict[str, object]] | None = None) -> TaskRecord:
    return TaskRecord(
        id="t1",
        created=0.0,
        updated=0.0,
        prompt="fix",
        repo="/r",
        ref=None,
        mode="code",
        environment="default",
        image="img",
        status="ready",
        final_message=answer,
        citations=citations or [],
    )


@pytest.mark.parametrize(
    ("script", "is_check"),
    [
        ("pytest -q", True),
        ("cd /repo && .venv/bin/python -m pytest tests/test_calc.py", True),
        ("PYTHONPATH=. uv run pytest", True),
        ("timeout 60 cargo test --all", True),
        ("(cd web && npx jest)", True),
        ("ruff check . && mypy src", True),
        ("npm run lint", True),
        ("grep -rn pytest setup.cfg", False),
        ("pip install pytest", False),
        ("cat calc.py", False),
        ("git log | grep mypy", False),
    ],
)
def test_check_commands_are_recognised_at_command_position(script: str, is_check: bool) -> None:
    assert is_check_command(["bash", "-lc", script]) is is_check


@pytest.mark.parametrize(
    ("answer", "claim"),
    [
        ("Fixed the sign. All tests pass now.", "All tests pass"),
        ("I changed add(); the tests passed.", "tests passed"),
        ("The build succeeds and lint is clean.", "build succeeds"),
        ("The tests still do not pass.", ""),
        ("Two tests are failing; I could not fix them.", ""),
        ("I explained the code.", ""),
    ],
)
def test_success_claims_are_found_and_negations_are_not(answer: str, claim: str) -> None:
    assert success_claim(answer) == claim


def test_a_claim_contradicted_by_the_last_run_of_a_check_is_flagged() -> None:
    commands = [
        command("c1", "pytest -q", 1),
        command("c2", "cat calc.py", 0),
        command("c3", "pytest -q", 0),
        command("c4", "ruff check .", 1),
    ]
    evidence = evidence_for(task("All tests pass."), commands)

    assert [run.chunk_id for run in evidence.checks] == ["c1", "c3", "c4"]
    assert [(run.chunk_id, run.outcome) for run in evidence.latest] == [
        ("c3", "pass"),
        ("c4", "fail"),
    ]
    assert evidence.checks_pass is False
    assert evidence.unsupported_claim
    assert "ruff check ." in evidence.warning and "c4" in evidence.warning


def test_a_claim_backed_by_passing_last_runs_is_not_flagged() -> None:
    commands = [command("c1", "pytest -q", 1), command("c2", "pytest -q", 0)]
    citations = [{"valid": True}, {"valid": False}, {"valid": True}]
    evidence = evidence_for(task("All tests pass.", citations), commands)

    assert evidence.checks_pass is True
    assert not evidence.unsupported_claim and evidence.warning == ""
    assert (evidence.citations_valid, evidence.citations_invalid) == (2, 1)


def test_a_claim_with_no_check_run_at_all_is_flagged() -> None:
    commands = [command("c1", "pytest -q", 0, phase="setup")]
    evidence = evidence_for(task("Tests pass."), commands)

    assert evidence.checks == [] and evidence.checks_pass is None
    assert "ran no test or check command" in evidence.warning


@pytest.mark.parametrize(
    ("answer", "runs", "citations", "verdict", "detail"),
    [
        ("All tests pass.", [("c1", "pytest -q", 1)], [], "⚠ claim ≠ runs", "ended fail"),
        ("Tests pass.", [], [], "⚠ no tests run", "ran no test or check command"),
        ("Done.", [("c1", "pytest -q", 0), ("c2", "ruff check .", 1)], [], "⚠ checks fail", "c2"),
        ("Done.", [("c1", "pytest -q", 0)], [{"valid": False}] * 2, "⚠ 2 bad cites", "2 of 2"),
        ("Done.", [("c1", "pytest -q", 1), ("c2", "pytest -q", 0)], [], "✓ checks pass", ""),
        ("Done.", [("c1", "cat calc.py", 0)], [{"valid": True}], "", ""),
    ],
)
def test_the_verdict_names_what_most_needs_a_second_look(
    answer: str,
    runs: list[tuple[str, str, int]],
    citations: list[dict[str, object]],
    verdict: str,
    detail: str,
) -> None:
    commands = [command(chunk, script, code) for chunk, script, code in runs]
    evidence = evidence_for(task(answer, citations), commands)
    assert evidence.verdict == verdict and len(evidence.verdict) <= 14
    assert detail in evidence.verdict_detail and bool(evidence.verdict_detail) == bool(detail)
