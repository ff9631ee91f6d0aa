"""`taskyard followup` end to end on Docker with the scripted model, and its refusals."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from tests.support.agent_script import TEST_COMMAND, shell
from tests.support.board import store_command, store_task, stored_engine
from tests.support.cli import run_taskyard, stop_service
from tests.support.model_server import Call, Reply, ScriptedModelServer
from tests.support.repos import FIX_PATCH, git, make_calc_repo
from tests.test_followup_docker import ADD_TEST_PATCH

MARKER = "/tmp/first-turn-marker"
"""A file the first turn leaves in the container, outside the repository."""


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "TASKYARD_"))}
    return {**clean, "TASKYARD_HOME": str(tmp_path / "home"), "OPENAI_API_KEY": "test-key"}


def assert_refused(result: subprocess.CompletedProcess[str], message: str) -> None:
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stderr.startswith("taskyard: ") and message in result.stderr, result.stderr
    assert "Traceback" not in result.stdout + result.stderr


async def test_followup_refuses_unknown_empty_running_and_sandboxless_tasks(
    tmp_path: Path, env: dict[str, str]
) -> None:
    engine = stored_engine(tmp_path / "home")
    store_task(engine, "aaaa0001", sandbox_id="f" * 64, branch="taskyard/aaaa0001")
    store_command(engine, "aaaa0001", "c1", ["sh", "-c", "git clone"], "", phase="checkout")
    store_task(engine, "bbbb0002", status="running", sandbox_id="e" * 64)
    store_task(engine, "cccc0003", status="cancelled", sandbox_id="d" * 64)
    store_task(engine, "dddd0004", status="failed", error="image not found")
    await engine.close()

    assert_refused(run_taskyard("followup", "deadbeef", "more", env=env), "no task 'deadbeef'")
    assert_refused(
        run_taskyard("followup", "aaaa", "   ", env=env),
        "the follow-up is empty: say what the agent should do next",
    )
    assert_refused(
        run_taskyard("followup", "bbbb0002", "more", env=env),
        "task bbbb0002 is still running: wait for it to finish",
    )
    assert_refused(
        run_taskyard("followup", "cccc0003", "more", env=env),
        "task cccc0003 never got a checkout of its repository",
    )
    assert_refused(
        run_taskyard("followup", "dddd0004", "more", env=env),
        "task dddd0004 has no sandbox to continue in: retry it instead",
    )
    stop_service(env)
    del env["OPENAI_API_KEY"]
    assert_refused(run_taskyard("followup", "aaaa0001", "more", env=env), "OPENAI_API_KEY")


def model_env(env: dict[str, str], server: ScriptedModelServer) -> dict[str, str]:
    return {
        **env,
        "OPENAI_BASE_URL": server.base_url,
        "TASKYARD_WIRE_API": "chat",
        "TASKYARD_MODEL": "scripted-codex",
    }


def show(task_id: str, env: dict[str, str]) -> dict[str, object]:
    shown = run_taskyard("show", task_id, "--json", env=env)
    assert shown.returncode == 0, shown.stderr
    result: dict[str, object] = json.loads(shown.stdout)
    return result


def container_running(container_id: str) -> bool:
    state = subprocess.run(
        ["docker", "inspect", "-f", "{{.State.Running}}", container_id],
        capture_output=True,
        text=True,
        check=True,
    )
    return state.stdout.strip() == "true"


SCRIPT = [
    Reply(tool_calls=[shell("sh", "-c", f"echo first turn > {MARKER}")]),
    Reply(tool_calls=[Call("apply_patch", {"input": FIX_PATCH})]),
    Reply(tool_calls=[shell(*TEST_COMMAND)]),
    Reply(text="Fixed add; the tests pass."),
    Reply(tool_calls=[shell("cat", MARKER)]),
    Reply(tool_calls=[Call("apply_patch", {"input": ADD_TEST_PATCH})]),
    Reply(tool_calls=[shell(*TEST_COMMAND)]),
    Reply(text="Added a test for negatives; all tests pass."),
    Reply(tool_calls=[shell("git", "log", "--format=%s")]),
    Reply(text="Two commits on the branch."),
]


def test_followup_continues_in_the_same_container_and_branch(
    docker_available: None, tmp_path: Path, env: dict[str, str]
) -> None:
    repo = make_calc_repo(tmp_path / "calc")
    with ScriptedModelServer(SCRIPT) as server:
        env = model_env(env, server)
        first = run_taskyard("run", "Fix add", "--repo", str(repo), "--json", env=env)
        assert first.returncode == 0, first.stderr + first.stdout[-3000:]
        task_id = json.loads(first.stdout.splitlines()[-1])["task_id"]
        before = show(task_id, env)
        assert not container_running(str(before["sandbox_id"]))

        second = run_taskyard("followup", task_id[:6], "Also test negative numbers", env=env)
        assert second.returncode == 0, second.stderr + second.stdout[-3000:]
        after = show(task_id, env)

        third = run_taskyard("followup", task_id, "Summarise the branch", "--json", env=env)
        assert third.returncode == 0, third.stderr + third.stdout[-3000:]
        follow_up_request = server.requests[4]

    assert "follow-up: Also test negative numbers" in second.stdout
    assert f"$ cat {MARKER}" in second.stdout and "│ first turn" in second.stdout
    assert f"ready: task {task_id}" in second.stdout
    assert follow_up_request.last_user_text() == "Also test negative numbers"
    assert any("Fix add" in str(item.get("content")) for item in follow_up_request.items())

    assert (after["sandbox_id"], after["branch"]) == (before["sandbox_id"], before["branch"])
    assert after["final_message"] == "Added a test for negatives; all tests pass."
    assert "+    return a + b" in str(after["diff"]) and "+class NegativeTest" in str(after["diff"])
    evidence = after["evidence"]
    assert isinstance(evidence, dict)
    assert [run["outcome"] for run in evidence["checks"]] == ["pass", "pass"]
    assert evidence["unsupported_claim"] is False

    events = [json.loads(line) for line in third.stdout.splitlines()]
    assert {event["task_id"] for event in events} == {task_id}
    log = next(e for e in events if e["type"] == "command.finished")
    assert log["command"] == ["git", "log", "--format=%s"] and log["exit_code"] == 0
    assert events[-1]["type"] == "task.finished" and events[-1]["status"] == "ready"
    assert events[-1]["final_message"] == "Two commits on the branch."
    assert show(task_id, env)["sandbox_id"] == before["sandbox_id"]
    applied = run_taskyard("apply", task_id, "--repo", str(repo), "--branch", "both", env=env)
    assert applied.returncode == 0, applied.stderr
    assert git(repo, "log", "--format=%s", "both").count("taskyard:") == 2
