"""The installed `taskyard` in tmux, driven by keys as a person would."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.agent_script import fix_script
from tests.support.cli import TASKYARD
from tests.support.model_server import ScriptedModelServer
from tests.support.repos import git, make_calc_repo
from tests.support.terminal import Terminal, tmux_terminal

pytestmark = pytest.mark.usefixtures("docker_available")


@pytest.fixture
def terminal() -> Iterator[Terminal]:
    with tmux_terminal(f"taskyard-test-{os.getpid()}") as session:
        yield session


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
