"""`taskyard run` end to end: real CLI, real Docker, real git, the real openai client."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.model_server import Call, RecordedRequest, Reply, ScriptedModelServer
from tests.support.repos import FIX_PATCH, git, make_calc_repo

TEST_COMMAND = ["python3", "-m", "unittest", "-q"]


def chunk_ids(request: RecordedRequest) -> list[str]:
    """The chunk ids the engine returned to the model so far, in order."""
    return [
        output.splitlines()[0].removeprefix("chunk_id: ")
        for output in request.tool_outputs()
        if output.startswith("chunk_id: ")
    ]


def final_answer(request: RecordedRequest) -> Reply:
    failing, passing = chunk_ids(request)
    return Reply(
        text=(
            "Fixed `add`, which subtracted 【F:calc.py†L1-L2】. The test failed before "
            f"【{failing}†L1-L3】 and passes now 【{passing}†L1-L3】."
        )
    )


def fix_script() -> list[object]:
    return [
        Reply(tool_calls=[Call("shell", {"command": TEST_COMMAND})]),
        Reply(tool_calls=[Call("apply_patch", {"input": FIX_PATCH})]),
        Reply(tool_calls=[Call("shell", {"command": TEST_COMMAND, "timeout_ms": 60000})]),
        final_answer,
    ]


def taskyard(
    *args: str, env: dict[str, str], cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """Run the installed taskyard console script."""
    command = [str(Path(sys.executable).with_name("taskyard")), *args]
    return subprocess.run(
        command, capture_output=True, text=True, env=env, cwd=cwd, timeout=600, check=False
    )


def model_env(server: ScriptedModelServer, home: Path, wire_api: str) -> dict[str, str]:
    return {
        **os.environ,
        "TASKYARD_HOME": str(home),
        "OPENAI_API_KEY": "test-key",
        "OPENAI_BASE_URL": server.base_url,
        "TASKYARD_WIRE_API": wire_api,
        "TASKYARD_MODEL": "scripted-codex",
    }


@pytest.mark.parametrize("wire_api", ["chat", "responses"])
def test_agent_fixes_failing_test_and_result_applies(
    docker_available: None, tmp_path: Path, wire_api: str
) -> None:
    repo = make_calc_repo(tmp_path / "calc")
    (repo / "notes.txt").write_text("uncommitted work\n")
    with ScriptedModelServer(fix_script()) as server:
        env = model_env(server, tmp_path / "home", wire_api)
        result = taskyard("run", "Fix the failing test", "--repo", str(repo), "--json", env=env)
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
    assert last["usage"]["input_tokens"] > 0
    assert server.requests[0].path.endswith(
        "/chat/completions" if wire_api == "chat" else "/responses"
    )

    task_id = last["task_id"]
    applied = taskyard("apply", task_id, "--repo", str(repo), "--branch", "fix-add", env=env)
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

    again = taskyard("apply", task_id, "--repo", str(repo), "--branch", "fix-add", env=env)
    assert again.returncode != 0 and "already exists" in again.stderr
    assert "Traceback" not in again.stderr
