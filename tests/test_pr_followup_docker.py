"""A real task's pull request: `taskyard pr`, then follow-ups push to the same branch and update
it; a forge failure after a follow-up is recorded on the task, which stays ready."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest

from engine.api import Engine, TaskRequest
from engine.events import PullRequestChanged
from engine.forge_target import NO_GH_ENV
from tests.support.agent_script import fix_script
from tests.support.cli import run_taskyard
from tests.support.delivery import remote_sha, repo_with_remote
from tests.support.engines import run_to_end, scripted_engine
from tests.support.forge_server import FakeForge, fake_forge
from tests.support.model_server import Call, Reply, ScriptedModelServer
from tests.support.repos import git
from tests.test_followup_docker import ADD_TEST_PATCH

pytestmark = pytest.mark.usefixtures("docker_available")

TOKEN = "docker-token"


def pull_request_events(engine: Engine, task_id: str) -> list[PullRequestChanged]:
    return [e for e in engine.events(task_id) if isinstance(e, PullRequestChanged)]


async def taskyard_pr(home: Path, task_id: str) -> str:
    """`taskyard pr TASK` in its own process, as a person runs it; its stdout."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GH_", "GITHUB_", "TASKYARD_"))}
    env.update(TASKYARD_HOME=str(home), GH_TOKEN=TOKEN, **{NO_GH_ENV: "1"})
    done = await asyncio.to_thread(run_taskyard, "pr", task_id, env=env)
    assert done.returncode == 0, done.stderr
    return done.stdout


async def follow_up(engine: Engine, task_id: str, prompt: str) -> None:
    await engine.follow_up(task_id, prompt)
    await engine.wait(task_id)


async def test_follow_ups_update_the_pull_request(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GH_TOKEN", TOKEN)
    monkeypatch.setenv(NO_GH_ENV, "1")
    repo, bare = repo_with_remote(tmp_path)
    script = [
        *fix_script(),
        Reply(tool_calls=[Call("apply_patch", {"input": ADD_TEST_PATCH})]),
        Reply(tool_calls=[Call("shell", {"command": ["python3", "-m", "unittest", "-q"]})]),
        Reply(text="Added a test for negatives; all tests pass."),
        Reply(text="Nothing else to change."),
    ]
    with ScriptedModelServer(script) as server, fake_forge(TOKEN) as forge:
        home = tmp_path / "home"
        settings = {"api_url": forge.github_url, "repo": "acme/calc"}
        (home / "config").mkdir(parents=True)
        (home / "config" / "config.toml").write_text(
            f'[forge]\napi_url = "{forge.github_url}"\nrepo = "acme/calc"\n'
        )
        engine = scripted_engine(home, server, forge=settings)
        task, _ = await run_to_end(engine, TaskRequest(prompt="fix add", repo=str(repo)))
        assert task.status == "ready"
        printed = await taskyard_pr(home, task.id)
        first_push = remote_sha(bare, task.branch)
        assert first_push == task.head_sha
        assert printed.endswith(f"opened #1: {forge.github_url}/acme/calc/pull/1\n")

        await follow_up(engine, task.id, "also test negative numbers")
        followed = engine.task(task.id)
        check_updated(forge, bare, followed.branch, followed.head_sha, first_push)
        assert followed.status == "pr-opened" and followed.pr_number == 1
        assert git(bare, "merge-base", "--is-ancestor", first_push, followed.head_sha) == ""

        forge.failures.append((401, {"message": "Bad credentials"}))
        await follow_up(engine, task.id, "anything else?")
        last = engine.task(task.id)
        events = pull_request_events(engine, task.id)
        await engine.close()
    assert last.status == "ready" and last.final_message == "Nothing else to change."
    assert [event.action for event in events] == ["opened", "updated", "failed"]
    assert events[-1].detail.startswith(
        f"the pull request was not updated: {task.branch} is pushed to origin, but GitHub "
        "rejected the token"
    )


def check_updated(
    forge: FakeForge, bare: Path, branch: str, head_sha: str, first_push: str
) -> None:
    """The follow-up's commits are on the remote branch and the pull request body has its
    evidence."""
    assert head_sha != first_push and remote_sha(bare, branch) == head_sha
    [create, update] = forge.requests
    assert (create.method, update.method, update.path) == (
        "POST",
        "PATCH",
        "/repos/acme/calc/pulls/1",
    )
    body = update.body["body"]
    assert body.startswith("Added a test for negatives; all tests pass.")
    assert body.count("✅ `python3 -m unittest -q` — pass (exit 0)") == 2
    assert "❌ `python3 -m unittest -q` — fail (exit 1)" in body
    assert "Warning" not in body
