"""Best-of-N on stored records: grouping attempts, ranking them by evidence, choosing one."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from engine.api import Engine, EngineError, TaskRequest
from engine.record.store import Store
from tests.support.board import CALC_DIFF, FROZEN_NOW, store_command, store_task, stored_engine
from tests.support.cli import run_taskyard

TESTS = ["bash", "-lc", "python3 -m pytest -q"]
LINT = ["bash", "-lc", "ruff check ."]
BIG_DIFF = CALC_DIFF + (
    "diff --git a/notes.md b/notes.md\n"
    "new file mode 100644\n"
    "--- /dev/null\n"
    "+++ b/notes.md\n"
    "@@ -0,0 +1,3 @@\n"
    "+one\n"
    "+two\n"
    "+three\n"
)
USAGE = {"input_tokens": 100, "output_tokens": 20}


def store_attempt(engine: Engine, task_id: str, attempt: int, **fields: object) -> None:
    values: dict[str, object] = {
        "group_id": "group001",
        "attempt": attempt,
        "diff": CALC_DIFF,
        "usage": USAGE,
        "created": FROZEN_NOW - 600 + attempt,
        **fields,
    }
    store_task(engine, task_id, **values)


def store_checks(engine: Engine, task_id: str, *runs: tuple[list[str], int]) -> None:
    for index, (command, exit_code) in enumerate(runs):
        started = FROZEN_NOW - 500 + index
        store_command(
            engine, task_id, f"c{index}", command, "output\n", exit_code=exit_code, started=started
        )


@pytest.fixture
def engine(tmp_path: Path) -> Engine:
    return stored_engine(tmp_path / "home")


async def test_attempts_are_grouped_in_attempt_order(engine: Engine) -> None:
    store_attempt(engine, "attempt3", 3)
    store_attempt(engine, "group001", 1)
    store_attempt(engine, "attempt2", 2)
    store_task(engine, "alone001")
    assert [task.id for task in engine.attempts("attempt3")] == ["group001", "attempt2", "attempt3"]
    assert [task.id for task in engine.attempts("alone001")] == ["alone001"]
    assert engine.attempt("attempt3", None).id == "attempt3"
    assert engine.attempt("attempt3", 2).id == "attempt2"
    assert engine.attempt("group001", 1).id == "group001"
    with pytest.raises(EngineError, match="task group001 has 3 attempts, not an attempt 4"):
        engine.attempt("attempt2", 4)
    with pytest.raises(EngineError, match="has 1 attempt, not an attempt 0: choose 1"):
        engine.attempt("alone001", 0)
    await engine.close()


async def test_passing_checks_outrank_a_smaller_diff_and_failures_come_last(
    engine: Engine,
) -> None:
    store_attempt(engine, "group001", 1, final_message="All tests pass now.")
    store_checks(engine, "group001", (TESTS, 1), (LINT, 0))
    store_attempt(engine, "attempt2", 2, diff=BIG_DIFF)
    store_checks(engine, "attempt2", (TESTS, 1), (TESTS, 0), (LINT, 0))
    store_attempt(engine, "attempt3", 3, status="failed", error="max_turns (2)\nmore")
    store_checks(engine, "attempt3", (TESTS, 0))
    store_attempt(engine, "attempt4", 4)

    ranked = engine.ranked_attempts("attempt4")
    assert [(entry.rank, entry.record.id) for entry in ranked] == [
        (1, "attempt2"),
        (2, "attempt4"),
        (3, "group001"),
        (4, "attempt3"),
    ]
    best, no_checks, failing, failed = ranked
    assert (best.checks_passed, best.checks_failed) == (2, 0)
    assert best.reasons == [
        "2 checks passing",
        "5 lines changed in 2 files",
        "120 tokens",
    ]
    assert no_checks.reasons[0] == "no checks ran"
    assert (failing.checks_passed, failing.checks_failed) == (1, 1)
    assert failing.reasons[:2] == [
        "1 of 2 checks failing",
        "claims a success the checks do not back",
    ]
    assert failed.reasons[0] == "failed: max_turns (2)"
    assert failed.to_dict()["checks_pass"] is True
    await engine.close()


async def test_an_unbacked_claim_ranks_below_silence_and_cost_breaks_ties(
    tmp_path: Path,
) -> None:
    prices = {"input_price_per_million": 1.0, "output_price_per_million": 4.0}
    engine = stored_engine(tmp_path / "home", model_client=prices)
    store_attempt(engine, "group001", 1, final_message="Everything works.")
    store_attempt(engine, "attempt2", 2, usage={"input_tokens": 900, "output_tokens": 10})
    store_attempt(engine, "attempt3", 3, usage={"input_tokens": 100, "output_tokens": 200})
    ranked = engine.ranked_attempts("group001")
    assert [entry.record.id for entry in ranked] == ["attempt3", "attempt2", "group001"]
    assert ranked[0].cost == pytest.approx(0.0009)
    assert ranked[0].reasons[-1] == "$0.0009"
    assert ranked[2].evidence.unsupported_claim
    await engine.close()


@pytest.mark.parametrize("attempts", [0, 5, -1])
async def test_attempts_outside_one_to_four_are_refused(engine: Engine, attempts: int) -> None:
    request = TaskRequest(prompt="fix it", attempts=attempts)
    with pytest.raises(EngineError, match=f"{attempts} attempts is not possible: ask for 1 to 4"):
        await engine.submit_attempts(request)
    assert engine.tasks() == []
    await engine.close()


def test_an_older_store_gains_the_attempt_columns(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite"
    store = Store(path)
    store._db.execute("ALTER TABLE tasks DROP COLUMN group_id")
    store._db.execute("ALTER TABLE tasks DROP COLUMN attempt")
    store._db.execute(
        "INSERT INTO tasks (id, created, updated, prompt, repo, mode, environment, image, status)"
        " VALUES ('old00001', 0, 0, 'p', '/r', 'code', 'default', 'i', 'ready')"
    )
    store.close()
    reopened = Store(path)
    (task,) = reopened.group_tasks("old00001")
    assert (task.group_id, task.attempt, task.group) == ("", 1, "old00001")
    reopened.close()


@pytest.mark.parametrize("value", ["0", "5", "two", "-1"])
def test_run_refuses_attempts_outside_one_to_four(tmp_path: Path, value: str) -> None:
    env = {**os.environ, "TASKYARD_HOME": str(tmp_path / "home")}
    result = run_taskyard("run", "fix it", "--attempts", value, env=env)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert f"argument --attempts: {value!r} is not a number of attempts: give 1 to 4" in (
        result.stderr
    )
    assert not (tmp_path / "home").exists()
