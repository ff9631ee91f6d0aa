"""`taskyard run` end to end: real CLI, real Docker, real git, the real openai client."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.agent_script import TEST_COMMAND, fix_script
from tests.support.cli import model_env, run_taskyard
from tests.support.model_server import ScriptedModelServer
from tests.support.repos import git, make_calc_repo


@pytest.mark.parametrize("wire_api", ["chat", "responses"])
def test_agent_fixes_failing_test_and_result_applies(
    docker_available: None, tmp_path: Path, wire_api: str
) -> None:
    repo = make_calc_repo(tmp_path / "calc")
    (repo / "notes.txt").write_text("uncommitted work\n")
    with ScriptedModelServer(fix_script()) as server:
        env = model_env(server, tmp_path / "home", wire_api)
        result = run_taskyard("run", "Fix the failing test", "--repo", str(repo), "--json", env=env)
    assert result.returncode == 0, result.stderr + result.stdout[-3000:]
    events = [json.loads(line) for line in result.stdout.splitlines()]
    assert all({"type", "task_id", "ts"} <= event.keys() for event in events)

    finished = [
        e for e in events if e["type"] == "command.finished" and e["command"] == TEST_COMMAND
    ]
    assert [e["exit_code"] for e in finished] == [1, 0]
    assert all(e["chunk_id"] for e in finished)

    last = events[-1]
    assert last["type"] == "task.finished" and last["status"] == "ready"
    assert (
        "diff --git a/calc.py b/calc.py" in last["diff"] and last["diff"].count("diff --git") == 1
    )
    assert "-    return a - b" in last["diff"] and "+    return a + b" in last["diff"]
    assert [c["kind"] for c in last["citations"]] == ["file", "chunk", "chunk"]
    assert all(c["valid"] for c in last["citations"]), last["citations"]
    assert (last["verdict"], last["verdict_detail"]) == ("✓ checks pass", "")
    assert last["usage"]["input_tokens"] > 0
    assert server.requests[0].path.endswith(
        "/chat/completions" if wire_api == "chat" else "/responses"
    )

    task_id = last["task_id"]
    applied = run_taskyard("apply", task_id, "--repo", str(repo), "--branch", "fix-add", env=env)
    assert applied.returncode == 0, applied.stderr
    assert git(repo, "branch", "--show-current") == "main"
    assert git(repo, "status", "--porcelain") == "?? notes.txt"
    assert "return a - b" in (repo / "calc.py").read_text()

    checkout = tmp_path / "checkout"
    git(repo, "worktree", "add", "-q", str(checkout), "fix-add")
    tests = subprocess.run(
        [sys.executable, "-m", "unittest", "-q"], cwd=checkout, capture_output=True, text=True
    )
    assert tests.returncode == 0, tests.stderr

    again = run_taskyard("apply", task_id, "--repo", str(repo), "--branch", "fix-add", env=env)
    assert again.returncode == 0, again.stderr
    assert again.stdout.startswith("branch fix-add is already at ")
