"""Bad input gets one clear line, and nothing is created for it: each test is named after what
it tries, and runs the real `taskyard` command where the terminal is what matters."""

from __future__ import annotations

import json
import os
import re
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest
from textual.widgets import Input, TextArea

from engine.api import EngineError, TaskRequest
from tests.support.board import ServedBoard, store_task, stored_engine, wait_until
from tests.support.cli import TASKYARD, run_taskyard
from tests.support.model_server import Reply, ScriptedModelServer
from tests.support.repos import git, make_calc_repo
from tui import cli
from tui.commands import tasks as tasks_command
from tui.last_resort import BROKEN_PIPE_EXIT, INTERNAL_ERROR_LOG
from tui.screens.composer import ComposerScreen

UNREACHABLE = "Cannot reach the model endpoint"
"""How the failure of a task whose model endpoint does not answer begins."""


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "TASKYARD_"))}
    return {**clean, "TASKYARD_HOME": str(tmp_path / "home"), "OPENAI_API_KEY": "test-key"}


def created(env: dict[str, str]) -> tuple[int, int]:
    """(tasks in the store, containers labelled with this state dir) under env's TASKYARD_HOME."""
    state_dir = Path(env["TASKYARD_HOME"]) / "state"
    database = state_dir / "taskyard.db"
    tasks = 0
    if database.exists():
        with sqlite3.connect(database) as db:
            tasks = db.execute("SELECT count(*) FROM tasks").fetchone()[0]
    listing = subprocess.run(
        ["docker", "ps", "-a", "-q", "--filter", f"label=dev.taskyard.home={state_dir}"],
        capture_output=True,
        text=True,
        check=True,
    )
    return tasks, len(listing.stdout.split())


def assert_one_line_refusal(result: subprocess.CompletedProcess[str], message: str) -> None:
    """A failed exit, nothing on stdout, and one line on stderr: `taskyard: ` and the message."""
    assert result.returncode != 0, result.stdout + result.stderr
    assert result.stdout == ""
    assert result.stderr.startswith("taskyard: ") and result.stderr.count("\n") == 1
    assert message in result.stderr, result.stderr


def refused_run(env: dict[str, str], repo: Path, *options: str, message: str) -> None:
    """`taskyard run` with the options is refused in one line, and creates no task and no
    container."""
    before = created(env)
    result = run_taskyard("run", "fix it", "--repo", str(repo), *options, env=env)
    assert_one_line_refusal(result, message)
    assert created(env) == before


def write_config(env: dict[str, str], text: str) -> None:
    config = Path(env["TASKYARD_HOME"]) / "config" / "config.toml"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(text)


def only_task_id(env: dict[str, str]) -> str:
    listed = run_taskyard("tasks", "--json", env=env)
    tasks = json.loads(listed.stdout)
    assert len(tasks) == 1, listed.stdout
    return str(tasks[0]["id"])


def test_an_invalid_image_reference_is_one_line_and_creates_nothing(
    docker_available: None, tmp_path: Path, env: dict[str, str]
) -> None:
    repo = make_calc_repo(tmp_path / "calc")
    refused_run(
        env,
        repo,
        "--image",
        "Bad Image!!",
        message="image reference 'Bad Image!!' is not valid: invalid reference format",
    )


def test_building_an_image_under_an_invalid_tag_is_one_line(
    docker_available: None, env: dict[str, str]
) -> None:
    result = run_taskyard("image", "build", "--tag", "Bad Image!!", env=env)
    assert_one_line_refusal(
        result, "image reference 'Bad Image!!' is not valid: invalid reference format"
    )


def test_a_repo_that_is_not_git_creates_no_task_and_no_container(
    docker_available: None, tmp_path: Path, env: dict[str, str]
) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    refused_run(env, plain, message=f"{plain} is not a git repository")


def test_a_missing_ref_creates_no_task_and_no_container(
    docker_available: None, tmp_path: Path, env: dict[str, str]
) -> None:
    repo = make_calc_repo(tmp_path / "calc")
    refused_run(env, repo, "--ref", "v9", message=f"ref v9 not found in {repo}")


def test_including_uncommitted_changes_from_a_url_or_another_ref_creates_nothing(
    docker_available: None, tmp_path: Path, env: dict[str, str]
) -> None:
    repo = make_calc_repo(tmp_path / "calc")
    (repo / "calc.py").write_text("# mine\n")
    git(repo, "tag", "v1")
    git(repo, "commit", "-q", "--allow-empty", "-m", "later")
    message = r"uncommitted changes sit on HEAD \(\w{12}\), not on v1"
    result = run_taskyard(
        "run", "fix it", "--repo", str(repo), "--ref", "v1", "--include-uncommitted", env=env
    )
    assert_one_line_refusal(result, "uncommitted changes sit on HEAD (")
    assert re.search(message, result.stderr) and "leave out the ref" in result.stderr
    url = f"file://{repo}"
    before = created(env)
    result = run_taskyard("run", "fix it", "--repo", url, "--include-uncommitted", env=env)
    assert_one_line_refusal(
        result, f"uncommitted changes are included only from a local repository, and {url}"
    )
    assert created(env) == before


def test_an_unknown_image_creates_no_task_and_no_container(
    docker_available: None, tmp_path: Path, env: dict[str, str]
) -> None:
    repo = make_calc_repo(tmp_path / "calc")
    refused_run(
        env,
        repo,
        "--image",
        "nope/missing:0",
        message="image 'nope/missing:0' not found on host local",
    )


async def test_submit_refuses_a_source_that_cannot_be_checked_out_before_recording(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "test-key")
    engine = stored_engine(tmp_path / "home")
    repo = make_calc_repo(tmp_path / "calc")
    plain = tmp_path / "plain"
    plain.mkdir()
    with pytest.raises(EngineError, match="ref no-such-branch not found"):
        await engine.submit(TaskRequest(prompt="x", repo=str(repo), ref="no-such-branch"))
    with pytest.raises(EngineError, match="not a git repository"):
        await engine.submit(TaskRequest(prompt="x", repo=str(plain)))
    with pytest.raises(EngineError, match="cannot reach file://"):
        await engine.submit(TaskRequest(prompt="x", repo=f"file://{tmp_path}/missing.git"))
    assert engine.tasks() == []
    await engine.close()


async def test_submit_without_a_model_key_records_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    engine = stored_engine(tmp_path / "home")
    repo = make_calc_repo(tmp_path / "calc")
    with pytest.raises(EngineError, match="OPENAI_API_KEY"):
        await engine.submit(TaskRequest(prompt="x", repo=str(repo)))
    assert engine.tasks() == []
    await engine.close()


async def test_a_retry_whose_image_is_gone_creates_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "test-key")
    engine = stored_engine(tmp_path / "home")
    repo = make_calc_repo(tmp_path / "calc")
    store_task(engine, "a1b2c3d4", status="failed", repo=str(repo), image="gone/image:1")
    with pytest.raises(EngineError, match="image 'gone/image:1' not found on host local"):
        await engine.retry("a1b2c3d4")
    assert [task.id for task in engine.tasks()] == ["a1b2c3d4"]
    await engine.close()


async def test_the_composer_shows_a_repo_that_is_not_git_and_creates_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "test-key")
    engine = stored_engine(tmp_path / "home", sandbox={"image": "debian:bookworm-slim"})
    plain = tmp_path / "plain"
    plain.mkdir()
    app = ServedBoard(engine, tmp_path, clock=time.time)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("n")
        composer = app.screen
        assert isinstance(composer, ComposerScreen)
        composer.query_one(TextArea).text = "fix it"
        composer.query_one("#repo", Input).value = str(plain)
        await pilot.press("ctrl+s")
        error = composer.query_one("#composer-error")
        await wait_until(pilot, lambda: "not a git repository" in str(error.render()), "error")
        assert app.screen is composer
        assert engine.tasks() == []


def test_run_prints_a_failure_once(
    docker_available: None, tmp_path: Path, env: dict[str, str]
) -> None:
    write_config(env, "[model_client]\nmax_retries = 0\n")
    env.update(OPENAI_BASE_URL="http://127.0.0.1:9/v1", TASKYARD_WIRE_API="chat")
    repo = make_calc_repo(tmp_path / "calc")
    result = run_taskyard("run", "fix it", "--repo", str(repo), env=env)
    assert result.returncode == 1
    assert UNREACHABLE not in result.stdout, result.stdout
    assert result.stderr.count(UNREACHABLE) == 1 and result.stderr.count("\n") == 1
    assert result.stderr.startswith(f"taskyard: task {only_task_id(env)} failed: {UNREACHABLE}")


def test_followup_prints_a_failure_once(
    docker_available: None, tmp_path: Path, env: dict[str, str]
) -> None:
    write_config(env, "[model_client]\nmax_retries = 0\n")
    env.update(TASKYARD_WIRE_API="chat", TASKYARD_MODEL="scripted-codex")
    repo = make_calc_repo(tmp_path / "calc")
    with ScriptedModelServer([Reply(text="Nothing to change.")]) as server:
        env["OPENAI_BASE_URL"] = server.base_url
        first = run_taskyard("run", "look", "--repo", str(repo), env=env)
        assert first.returncode == 0, first.stdout + first.stderr
    task_id = only_task_id(env)
    result = run_taskyard("followup", task_id, "more", env=env)
    assert result.returncode == 1
    assert UNREACHABLE not in result.stdout, result.stdout
    assert result.stderr.count(UNREACHABLE) == 1 and result.stderr.count("\n") == 1
    assert result.stderr.startswith(f"taskyard: task {task_id} failed: {UNREACHABLE}")


def test_a_followup_on_a_task_that_never_got_a_checkout_points_to_retry(
    docker_available: None, tmp_path: Path, env: dict[str, str]
) -> None:
    repo = make_calc_repo(tmp_path / "calc")
    with ScriptedModelServer([Reply(text="unused")]) as server:
        env["OPENAI_BASE_URL"] = server.base_url
        without_git = run_taskyard(
            "run", "fix it", "--repo", str(repo), "--image", "debian:bookworm-slim", env=env
        )
        assert without_git.returncode == 1 and "checkout failed" in without_git.stderr
        task_id = only_task_id(env)
        asked = len(server.requests)
        result = run_taskyard("followup", task_id, "try again", env=env)
        assert len(server.requests) == asked
    assert_one_line_refusal(result, f"task {task_id} never got a checkout of its repository")
    assert "retry it" in result.stderr


async def test_a_task_id_prefix_needs_four_characters(tmp_path: Path, env: dict[str, str]) -> None:
    engine = stored_engine(tmp_path / "home")
    store_task(engine, "2a3b4c5d")
    store_task(engine, "ab")
    await engine.close()
    for prefix in ("2", "2a", "2a3"):
        for command in (["show", prefix], ["apply", prefix], ["followup", prefix, "more"]):
            assert_one_line_refusal(
                run_taskyard(*command, env=env), "give at least 4 characters of the task id"
            )
    for named, task_id in (("2a3b", "2a3b4c5d"), ("2a3b4c5d", "2a3b4c5d"), ("ab", "ab")):
        shown = run_taskyard("show", named, "--json", env=env)
        assert shown.returncode == 0, shown.stderr
        assert json.loads(shown.stdout)["id"] == task_id


async def test_a_task_id_prefix_is_taken_literally(tmp_path: Path, env: dict[str, str]) -> None:
    engine = stored_engine(tmp_path / "home")
    store_task(engine, "2a3b4c5d")
    await engine.close()
    for pattern in ("2a_b", "____", "2a%b", "%%%%"):
        assert_one_line_refusal(run_taskyard("show", pattern, env=env), f"no task {pattern!r}")


async def test_show_into_a_closed_pipe_prints_no_traceback(
    tmp_path: Path, env: dict[str, str]
) -> None:
    engine = stored_engine(tmp_path / "home")
    lines = "".join(f"+line {number} {'x' * 80}\n" for number in range(30_000))
    diff = f"diff --git a/big b/big\n--- a/big\n+++ b/big\n@@ -0,0 +1,30000 @@\n{lines}"
    store_task(engine, "bigd1ff0", diff=diff)
    await engine.close()
    pipeline = '"$0" show bigd1ff0 2>"$1" | head -1; exit "${PIPESTATUS[0]}"'
    errors = tmp_path / "stderr"
    shown = subprocess.run(
        ["bash", "-c", pipeline, TASKYARD, str(errors)],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=120,
    )
    assert shown.stdout.startswith("task bigd1ff0 ") and shown.stdout.count("\n") == 1
    assert errors.read_text() == ""
    assert shown.returncode == BROKEN_PIPE_EXIT


def test_an_unexpected_exception_in_a_command_is_one_line_and_logged(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    home = tmp_path / "home"
    monkeypatch.setenv("TASKYARD_HOME", str(home))

    def broken(method: str, **args: object) -> None:
        raise RuntimeError("the store shelf fell over")

    monkeypatch.setattr(tasks_command, "ask_service", broken)
    code = cli.main(["tasks"])
    out, err = capfd.readouterr()
    log = home / "state" / INTERNAL_ERROR_LOG
    assert code == 1 and out == ""
    assert err == (
        f"taskyard: internal error: RuntimeError('the store shelf fell over') (details in {log})\n"
    )
    details = log.read_text()
    assert "Traceback (most recent call last)" in details and "in broken" in details
