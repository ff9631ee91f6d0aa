"""The installed `taskyard` in tmux, driven by keys as a person would; the board starts the
service, which outlives it."""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.agent_script import fix_script, shell
from tests.support.board import CALC_DIFF, store_task, stored_engine
from tests.support.cli import TASKYARD, run_taskyard
from tests.support.model_server import Reply, ScriptedModelServer, Step
from tests.support.repos import git, make_calc_repo
from tests.support.terminal import Terminal, tmux_terminal

pytestmark = pytest.mark.usefixtures("docker_available")


WAIT_COMMAND = "echo before the wait; sleep 6; echo after the wait"


@pytest.fixture
def terminal() -> Iterator[Terminal]:
    with tmux_terminal(f"taskyard-test-{os.getpid()}") as session:
        yield session


def board_env(home: Path, server: ScriptedModelServer) -> dict[str, str]:
    """The board's environment: its state under `home`, its model the scripted server."""
    return {
        "TASKYARD_HOME": str(home),
        "OPENAI_API_KEY": "test-key",
        "OPENAI_BASE_URL": server.base_url,
        "TASKYARD_WIRE_API": "responses",
        "TERM": "xterm-256color",
    }


def wait_for_count(terminal: Terminal, text: str, count: int, timeout: float = 30) -> str:
    """The screen once `text` shows `count` times on it."""
    deadline = time.monotonic() + timeout
    while (screen := terminal.screen()).count(text) < count:
        assert time.monotonic() < deadline, f"{text!r} not {count} times on screen:\n{screen}"
        time.sleep(0.2)
    return screen


def waiting_script(answer: str) -> list[Step]:
    """One command that prints, waits six seconds and prints again; then `answer`."""
    return [Reply(tool_calls=[shell("sh", "-c", WAIT_COMMAND)]), Reply(text=answer)]


def task_statuses(env: dict[str, str]) -> dict[str, str]:
    """`taskyard tasks --json`, as task id -> status."""
    listed = run_taskyard("tasks", "--json", env={**os.environ, **env}, timeout=60)
    assert listed.returncode == 0, listed.stderr
    return {task["id"]: task["status"] for task in json.loads(listed.stdout)}


def wait_for_status(env: dict[str, str], status: str, timeout: float = 120) -> str:
    """The id of the one task once it has `status`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        statuses = task_statuses(env)
        if list(statuses.values()) == [status]:
            return next(iter(statuses))
        time.sleep(0.5)
    raise AssertionError(f"no task became {status}: {task_statuses(env)}")


def test_new_task_review_and_accept_from_the_keyboard(terminal: Terminal, tmp_path: Path) -> None:
    repo = make_calc_repo(tmp_path / "calc")
    with ScriptedModelServer(fix_script()) as server:
        env = {
            "TASKYARD_HOME": str(tmp_path / "home"),
            "OPENAI_API_KEY": "test-key",
            "OPENAI_BASE_URL": server.base_url,
            "TASKYARD_WIRE_API": "responses",
            "TERM": "xterm-256color",
        }
        terminal.start([TASKYARD], repo, env)
        terminal.wait_for("Press n to start one")
        terminal.keys("n")
        terminal.wait_for("New task")
        terminal.keys("Fix the failing test", literal=True)
        terminal.wait_for("Fix the failing test", timeout=5)
        terminal.keys("C-s")
        terminal.wait_for("ready", timeout=120)
        terminal.keys("Enter")
        screen = terminal.wait_for("+    return a + b")
        assert "-    return a - b" in screen and "calc.py" in screen
        terminal.keys("a")
        terminal.wait_for("a new branch")
        terminal.keys("Enter")
        deadline = time.monotonic() + 30
        while not git(repo, "branch", "--list", "taskyard/*") and time.monotonic() < deadline:
            time.sleep(0.2)
    branches = git(repo, "branch", "--list", "taskyard/*").split()
    assert len(branches) == 1, branches
    assert git(repo, "branch", "--show-current") == "main"
    assert git(repo, "status", "--porcelain") == ""
    assert "return a + b" in git(repo, "show", f"{branches[0]}:calc.py")
    terminal.keys("q")


def test_q_leaves_the_task_running_and_the_reopened_board_shows_its_whole_loop(
    terminal: Terminal, tmp_path: Path
) -> None:
    repo = make_calc_repo(tmp_path / "calc")
    with ScriptedModelServer(waiting_script("Waited, as asked.")) as server:
        env = board_env(tmp_path / "home", server)
        terminal.start([TASKYARD], repo, env)
        terminal.keep_after_exit()
        terminal.wait_for("Press n to start one")
        terminal.keys("n")
        terminal.wait_for("New task")
        terminal.keys("Wait a little", literal=True)
        terminal.wait_for("Wait a little", timeout=5)
        terminal.keys("C-s")
        wait_for_status(env, "running")
        terminal.keys("q")
        terminal.wait_for_printed("1 task keeps running in the taskyard service", timeout=10)
        wait_for_status(env, "ready")
        terminal.restart([TASKYARD], repo)
        terminal.wait_for("✓ ready")
        terminal.keys("Enter")
        terminal.wait_for("Waited, as asked.")
        terminal.keys("t")
        terminal.wait_for("after the wait")
        screen = wait_for_count(terminal, "after the wait", 2)
    assert "Wait a little" in screen and "before the wait" in screen
    assert "Task ready" in screen
    time.sleep(1)
    assert terminal.screen().count("after the wait") == 2  # the command line and its output, once


def test_a_task_another_process_runs_shows_on_the_open_board_live(
    terminal: Terminal, tmp_path: Path
) -> None:
    repo = make_calc_repo(tmp_path / "calc")
    with ScriptedModelServer(waiting_script("Done elsewhere.")) as server:
        env = board_env(tmp_path / "home", server)
        terminal.start([TASKYARD], repo, env)
        terminal.wait_for("Press n to start one")
        runner = subprocess.Popen(
            [TASKYARD, "run", "--json", "Run from a second process"],
            cwd=repo,
            env={**os.environ, **env},
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            assert runner.stdout is not None
            queued = json.loads(runner.stdout.readline())
            assert queued["type"] == "task.queued"
            task_id = queued["task_id"]
            terminal.wait_for("Run from a second process", timeout=30)
            terminal.keys("Enter")
            terminal.wait_for("before the wait", timeout=60)
            assert runner.poll() is None, "the task ended before the board showed it running"
            screen = terminal.wait_for("Done elsewhere.", timeout=120)
            assert runner.wait(timeout=60) == 0
        finally:
            runner.kill()
    assert task_id in screen
    terminal.keys("q")


def test_two_boards_see_the_same_rows_and_stream(tmp_path: Path) -> None:
    repo = make_calc_repo(tmp_path / "calc")
    names = [f"taskyard-test-{os.getpid()}-{n}" for n in (1, 2)]
    with (
        tmux_terminal(names[0]) as one,
        tmux_terminal(names[1]) as two,
        ScriptedModelServer(waiting_script("Seen on both.")) as server,
    ):
        env = board_env(tmp_path / "home", server)
        for board in (one, two):
            board.start([TASKYARD], repo, env)
        for board in (one, two):
            board.wait_for("Press n to start one")
        one.keys("n")
        one.wait_for("New task")
        one.keys("Watched twice", literal=True)
        one.wait_for("Watched twice", timeout=5)
        one.keys("C-s")
        two.wait_for("Watched twice", timeout=30)
        two.keys("Enter")
        two.wait_for("before the wait", timeout=60)
        one.keys("Enter")
        screens = [board.wait_for("Task ready", timeout=120) for board in (one, two)]
        for board in (one, two):
            board.keys("q")
    for screen in screens:
        assert "before the wait" in screen and "Seen on both." in screen
        assert screen.count("after the wait") == 2, screen  # the command line and its output, once


def test_at_80x24_the_rows_keep_the_diff_and_the_composer_and_help_fit(
    terminal: Terminal, tmp_path: Path
) -> None:
    repo = make_calc_repo(tmp_path / "calc")
    engine = stored_engine(tmp_path / "home")
    store_task(engine, "aaaa0001", prompt="Fix the failing test", repo=str(repo), diff=CALC_DIFF)
    engine.store.close()
    env = {"TASKYARD_HOME": str(tmp_path / "home"), "TERM": "xterm-256color"}
    terminal.start([TASKYARD], repo, env, size=(80, 24))
    screen = terminal.wait_for("Fix the failing")
    assert "+1 -1" in screen and "? Keys" in screen and "q Quit" in screen
    assert max(len(line) for line in screen.splitlines()) <= 80
    terminal.keys("n")
    screen = terminal.wait_for("ctrl+s start")
    assert "Attempts" in screen and "Mode" in screen
    terminal.keys("Escape")
    terminal.wait_for("+1 -1")
    terminal.keys("?")
    screen = terminal.wait_for("Board and tasks")
    assert "escape closes this screen" not in screen, "help longer than the screen scrolls"
    terminal.keys("End")
    terminal.wait_for("escape closes this screen")
    terminal.keys("Escape", "q")
