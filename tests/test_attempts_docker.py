"""Best-of-N end to end: `taskyard run --attempts 2` on real Docker, one attempt's tests failing
and the other's passing; the ranking, `show`, `tasks` and `apply --attempt K`."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.support.agent_script import TEST_COMMAND, chunk_ids, shell
from tests.support.cli import model_env, run_taskyard
from tests.support.model_server import Call, RecordedRequest, Reply, ScriptedModelServer, Step
from tests.support.repos import git, make_calc_repo

pytestmark = pytest.mark.usefixtures("docker_available")

FIX_WITH_NOTE = """*** Begin Patch
*** Update File: calc.py
@@ def add(a, b):
-    return a - b
+    # Adds, as the test expects.
+    return a + b
*** End Patch"""
WRONG_FIX = """*** Begin Patch
*** Update File: calc.py
@@ def add(a, b):
-    return a - b
+    return a * b
*** End Patch"""


def passing_script() -> list[Step]:
    """Fix add() with one line more than needed; the tests pass."""

    def answer(request: RecordedRequest) -> Reply:
        (passing,) = chunk_ids(request)
        return Reply(text=f"Fixed add(); the tests pass 【{passing}†L1-L3】.")

    return [
        Reply(tool_calls=[Call("apply_patch", {"input": FIX_WITH_NOTE})]),
        Reply(tool_calls=[shell(*TEST_COMMAND)]),
        answer,
    ]


def failing_script() -> list[Step]:
    """A smaller but wrong fix; the tests fail and the answer claims they pass."""
    return [
        Reply(tool_calls=[Call("apply_patch", {"input": WRONG_FIX})]),
        Reply(tool_calls=[shell(*TEST_COMMAND)]),
        Reply(text="Fixed add(). All tests pass."),
    ]


def taskyard_json(*args: str, env: dict[str, str]) -> Any:
    result = run_taskyard(*args, "--json", env=env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def unit_tests_pass_on(repo: Path, branch: str, checkout: Path) -> bool:
    git(repo, "worktree", "add", "-q", str(checkout), branch)
    tests = subprocess.run(
        [sys.executable, "-m", "unittest", "-q"], cwd=checkout, capture_output=True, check=False
    )
    return tests.returncode == 0


def test_two_attempts_are_ranked_by_their_tests_and_the_chosen_one_applies(
    tmp_path: Path,
) -> None:
    repo = make_calc_repo(tmp_path / "calc")
    conversations = [failing_script(), passing_script()]
    with ScriptedModelServer(conversations=conversations) as server:
        env = model_env(server, tmp_path / "home", "chat")
        result = run_taskyard(
            "run", "Fix the failing test", "--repo", str(repo), "--attempts", "2", env=env
        )
    assert result.returncode == 0, result.stderr + result.stdout[-3000:]
    lines = result.stdout.splitlines()
    assert any(line.startswith("[1] $ python3 -m unittest -q") for line in lines)
    assert any(line.startswith("[2] $ python3 -m unittest -q") for line in lines)
    assert "attempts, best first" in result.stdout

    tasks = taskyard_json("tasks", env=env)
    (group,) = {task["group_id"] for task in tasks}
    assert sorted(task["attempt"] for task in tasks) == [1, 2]
    assert [task["id"] for task in tasks if task["attempt"] == 1] == [group]

    ranking = taskyard_json("show", group, env=env)["attempts"]
    best, worst = ranking
    assert (best["checks_pass"], best["lines_added"], best["unsupported_claim"]) == (True, 2, False)
    assert (worst["checks_pass"], worst["lines_added"], worst["unsupported_claim"]) == (
        False,
        1,
        True,
    )
    assert f"next: taskyard apply {group} --attempt {best['attempt']}" in result.stdout

    shown = run_taskyard("show", worst["task_id"], env=env).stdout
    rows = [line.split() for line in shown.splitlines() if line.strip().startswith(("1 ", "2 "))]
    assert [row[:3] for row in rows] == [
        ["1", str(best["attempt"]), best["task_id"]],
        ["2", str(worst["attempt"]), worst["task_id"]],
    ]
    assert "✓ 1 pass 0 fail" in shown and "✗ 0 pass 1 fail" in shown
    listing = run_taskyard("tasks", env=env).stdout
    assert "1/2" in listing and "2/2" in listing

    chosen = run_taskyard(
        "apply", group, "--attempt", str(best["attempt"]), "--branch", "best", env=env
    )
    assert chosen.returncode == 0, chosen.stderr
    other = run_taskyard(
        "apply", group, "--attempt", str(worst["attempt"]), "--branch", "other", env=env
    )
    assert other.returncode == 0, other.stderr
    assert "return a + b" in git(repo, "show", "best:calc.py")
    assert "return a * b" in git(repo, "show", "other:calc.py")
    assert unit_tests_pass_on(repo, "best", tmp_path / "best")
    assert git(repo, "branch", "--show-current") == "main"

    missing = run_taskyard("apply", group, "--attempt", "3", env=env)
    assert missing.returncode != 0 and "Traceback" not in missing.stderr
    assert f"task {group} has 2 attempts, not an attempt 3: choose 1 to 2" in missing.stderr
