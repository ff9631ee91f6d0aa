"""`taskyard run` end to end: real CLI, real Docker, real git, the real openai client."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.agent_script import TEST_COMMAND, fix_script, shell
from tests.support.cli import model_env, run_taskyard
from tests.support.model_server import Call, Reply, ScriptedModelServer
from tests.support.repos import FIX_PATCH, git, make_calc_repo
from tests.support.results import tree_state


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
    assert (
        f"taskyard: note: 1 uncommitted change (notes.txt) in {repo} is not part of the task: "
        "commit them, or pass --include-uncommitted\n"
    ) in result.stderr

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


def test_include_uncommitted_carries_modified_and_untracked_files(
    docker_available: None, tmp_path: Path
) -> None:
    repo = make_calc_repo(tmp_path / "calc")
    (repo / ".gitignore").write_text("*.log\n")
    git(repo, "add", ".gitignore")
    git(repo, "commit", "-q", "-m", "ignore logs")
    with (repo / "test_calc.py").open("a") as test_file:
        test_file.write("# my uncommitted line\n")
    (repo / "notes.txt").write_text("my untracked notes\n")
    (repo / "build.log").write_text("ignored\n")
    before, refs = tree_state(repo), git(repo, "for-each-ref")
    look = shell("sh", "-c", "tail -1 test_calc.py; cat notes.txt; ls")
    script = [
        Reply(tool_calls=[look]),
        Reply(tool_calls=[Call("apply_patch", {"input": FIX_PATCH})]),
        Reply(text="fixed add"),
    ]
    with ScriptedModelServer(script) as server:
        env = model_env(server, tmp_path / "home", "chat")
        args = ("run", "fix add", "--repo", str(repo), "--json", "--include-uncommitted")
        result = run_taskyard(*args, env=env)
        seen = server.requests[1].tool_outputs()[0]
    assert result.returncode == 0, result.stderr + result.stdout[-3000:]
    assert (
        "taskyard: note: including 2 uncommitted changes (test_calc.py, notes.txt) as a commit "
        "on top of HEAD\n"
    ) in result.stderr
    assert "# my uncommitted line\nmy untracked notes\n" in seen and "build.log" not in seen
    last = json.loads(result.stdout.splitlines()[-1])
    assert last["type"] == "task.finished" and last["status"] == "ready"
    assert last["diff"].count("diff --git") == 1 and "+    return a + b" in last["diff"]
    assert tree_state(repo) == before and git(repo, "for-each-ref") == refs
    applied = run_taskyard("apply", last["task_id"], "--repo", str(repo), env=env)
    assert applied.returncode == 0, applied.stderr
    branch = f"taskyard/{last['task_id']}"
    assert git(repo, "log", "--format=%s", branch).splitlines()[1] == (
        "taskyard: uncommitted changes"
    )
    assert git(repo, "show", f"{branch}:notes.txt") == "my untracked notes"
    assert tree_state(repo) == before
