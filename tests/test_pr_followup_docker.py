"""A real task's pull request, through the commands: `taskyard run`, `taskyard pr`, then
`taskyard followup` pushes to the same branch and updates the request; a forge failure after a
follow-up is reported and recorded, and the task stays ready."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from engine.delivery.forge_target import NO_GH_ENV
from tests.support.agent_script import fix_script
from tests.support.cli import run_taskyard
from tests.support.delivery import remote_sha, repo_with_remote
from tests.support.forge_server import FakeForge, fake_forge
from tests.support.model_server import Call, Reply, ScriptedModelServer
from tests.support.repos import git
from tests.test_followup_docker import ADD_TEST_PATCH

pytestmark = pytest.mark.usefixtures("docker_available")

TOKEN = "docker-token"
SCRIPT = [
    *fix_script(),
    Reply(tool_calls=[Call("apply_patch", {"input": ADD_TEST_PATCH})]),
    Reply(tool_calls=[Call("shell", {"command": ["python3", "-m", "unittest", "-q"]})]),
    Reply(text="Added a test for negatives; all tests pass."),
    Reply(text="Nothing else to change."),
]


def environment(home: Path, forge: FakeForge, server: ScriptedModelServer) -> dict[str, str]:
    """The commands' environment: the scripted model, a GitHub token, the [forge] config."""
    (home / "config").mkdir(parents=True)
    (home / "config" / "config.toml").write_text(
        f'[forge]\napi_url = "{forge.github_url}"\nrepo = "acme/calc"\n'
    )
    ambient = ("OPENAI_", "TASKYARD_", "GH_", "GITHUB_")
    clean = {k: v for k, v in os.environ.items() if not k.startswith(ambient)}
    return {
        **clean,
        "TASKYARD_HOME": str(home),
        "OPENAI_API_KEY": "test-key",
        "OPENAI_BASE_URL": server.base_url,
        "TASKYARD_WIRE_API": "chat",
        "TASKYARD_MODEL": "scripted-codex",
        "GH_TOKEN": TOKEN,
        NO_GH_ENV: "1",
    }


def succeeded(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, result.stderr + result.stdout[-3000:]
    return result.stdout


def shown(task_id: str, env: dict[str, str]) -> dict[str, object]:
    record: dict[str, object] = json.loads(
        succeeded(run_taskyard("show", task_id, "--json", env=env))
    )
    return record


def test_followups_update_the_pull_request(tmp_path: Path) -> None:
    repo, bare = repo_with_remote(tmp_path)
    with ScriptedModelServer(SCRIPT) as server, fake_forge(TOKEN) as forge:
        env = environment(tmp_path / "home", forge, server)
        ran = succeeded(run_taskyard("run", "fix add", "--repo", str(repo), "--json", env=env))
        task_id = json.loads(ran.splitlines()[-1])["task_id"]
        branch = f"taskyard/{task_id}"
        url = f"{forge.github_url}/acme/calc/pull/1"
        assert succeeded(run_taskyard("pr", task_id, env=env)).endswith(f"opened #1: {url}\n")
        first_push = remote_sha(bare, branch)
        assert first_push == shown(task_id, env)["head_sha"]

        followed = succeeded(run_taskyard("followup", task_id, "also test negatives", env=env))
        after = shown(task_id, env)
        assert followed.endswith(f"pull request #1 updated: {url}\n")
        assert after["status"] == "pr-opened" and after["pr_number"] == 1
        assert remote_sha(bare, branch) == after["head_sha"] != first_push
        assert git(bare, "merge-base", "--is-ancestor", first_push, str(after["head_sha"])) == ""
        check_update(forge)

        forge.failures.append((401, {"message": "Bad credentials"}))
        refused = run_taskyard("followup", task_id, "anything else?", env=env)
        last = shown(task_id, env)
    assert refused.returncode == 0 and "Traceback" not in refused.stderr
    assert refused.stderr == (
        f"taskyard: the pull request was not updated: {branch} is pushed to origin, but GitHub "
        "rejected the token while updating #1 (401: Bad credentials): it is missing, expired or "
        "revoked; set GH_TOKEN (or GITHUB_TOKEN) to a token that may write pull requests "
        "(classic tokens: the `repo` scope), or log in with `gh auth login`\n"
    )
    assert last["status"] == "ready" and last["final_message"] == "Nothing else to change."
    assert last["pr_url"] == url


def check_update(forge: FakeForge) -> None:
    """The follow-up updated the pull request's body with its answer and evidence."""
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
