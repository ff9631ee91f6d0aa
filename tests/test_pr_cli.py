"""`taskyard pr` as a person runs it: push, open, update, show, and errors without tracebacks."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from engine.delivery.forge_target import NO_GH_ENV
from tests.support.board import stored_engine
from tests.support.cli import run_taskyard
from tests.support.delivery import remote_sha, repo_with_remote, store_ready_task
from tests.support.forge_server import FakeForge, fake_forge
from tests.support.repos import git

TOKEN = "cli-token"
TASK = "aaaa0001"
BRANCH = f"taskyard/{TASK}"


@pytest.fixture
def forge() -> Iterator[FakeForge]:
    with fake_forge(TOKEN) as server:
        yield server


@pytest.fixture
def home(tmp_path: Path, forge: FakeForge) -> Path:
    """A TASKYARD_HOME with a [forge] config and one ready task whose repo has a bare origin."""
    home = tmp_path / "home"
    repo, _bare = repo_with_remote(tmp_path)
    engine = stored_engine(home)
    store_ready_task(engine, repo, TASK)
    engine.store.close()
    config = f'[forge]\napi_url = "{forge.github_url}"\nrepo = "acme/calc"\n'
    (home / "config" / "config.toml").write_text(config)
    return home


def cli_env(home: Path, **extra: str) -> dict[str, str]:
    tokens = ("GH_TOKEN", "GITHUB_TOKEN", "GITLAB_TOKEN", "TASKYARD_", "OPENAI_")
    clean = {k: v for k, v in os.environ.items() if not k.startswith(tokens)}
    return {**clean, "TASKYARD_HOME": str(home), NO_GH_ENV: "1", **extra}


def test_pr_opens_a_draft_then_updates_it_and_show_lists_it(
    tmp_path: Path, home: Path, forge: FakeForge
) -> None:
    env = cli_env(home, GH_TOKEN=TOKEN)
    opened = run_taskyard("pr", "aaaa", "--draft", env=env)
    assert opened.returncode == 0, opened.stderr
    sha = remote_sha(tmp_path / "remote.git", BRANCH)
    url = f"{forge.github_url}/acme/calc/pull/1"
    assert opened.stdout == f"pushed {BRANCH} to origin at {sha[:12]}\nopened #1: {url}\n"
    assert forge.requests[0].body["draft"] is True
    shown = run_taskyard("show", TASK, env=env)
    assert f"pr     #1 {url}\n" in shown.stdout
    assert f"task {TASK}  pr-opened" in shown.stdout
    again = run_taskyard("pr", TASK, env=env)
    assert again.stdout.endswith(f"updated #1: {url}\n")
    assert [request.method for request in forge.requests] == ["POST", "PATCH"]


def test_pr_without_a_token_pushes_and_prints_where_to_open_it(
    tmp_path: Path, home: Path, forge: FakeForge
) -> None:
    result = run_taskyard("pr", TASK, env=cli_env(home))
    assert result.returncode == 0, result.stderr
    assert remote_sha(tmp_path / "remote.git", BRANCH)
    lines = result.stdout.splitlines()
    assert lines[1].startswith("no GitHub token: set GH_TOKEN (or GITHUB_TOKEN)")
    compare = f"{forge.github_url}/acme/calc/compare/main...{BRANCH}?expand=1"
    assert lines[2] == f"open the pull request here: {compare}"
    assert forge.requests == []


def test_pr_errors_are_one_line_without_a_traceback(home: Path, forge: FakeForge) -> None:
    result = run_taskyard("pr", TASK, env=cli_env(home, GH_TOKEN="revoked"))
    assert result.returncode == 2
    assert result.stderr.startswith(
        f"taskyard: {BRANCH} is pushed to origin, but GitHub rejected the token"
    )
    assert "Traceback" not in result.stderr + result.stdout
    missing = run_taskyard("pr", "zzzz", env=cli_env(home, GH_TOKEN="revoked"))
    assert missing.stderr == "taskyard: no task 'zzzz': `taskyard tasks` lists them\n"


def test_pr_attempt_pushes_the_chosen_attempt(tmp_path: Path, forge: FakeForge) -> None:
    home = tmp_path / "attempts-home"
    repo, bare = repo_with_remote(tmp_path / "attempts")
    engine = stored_engine(home)
    store_ready_task(engine, repo, "bbbb0001", group_id="bbbb0001", attempt=1)
    second = store_ready_task(engine, repo, "bbbb0002", group_id="bbbb0001", attempt=2)
    engine.store.close()
    config = f'[forge]\napi_url = "{forge.github_url}"\nrepo = "acme/calc"\n'
    (home / "config" / "config.toml").write_text(config)

    result = run_taskyard("pr", "bbbb0001", "--attempt", "2", env=cli_env(home, GH_TOKEN=TOKEN))
    assert result.returncode == 0, result.stderr
    assert remote_sha(bare, "taskyard/bbbb0002") == git(second.clone, "rev-parse", "HEAD")
    assert remote_sha(bare, "taskyard/bbbb0001") == ""
    assert forge.requests[0].body["head"] == "taskyard/bbbb0002"

    missing = run_taskyard("pr", "bbbb0001", "--attempt", "3", env=cli_env(home, GH_TOKEN=TOKEN))
    assert missing.returncode == 2 and "has 2 attempts" in missing.stderr
