"""The installed `taskyard` in tmux, driven by keys as a person would."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.agent_script import fix_script
from tests.support.cli import TASKYARD
from tests.support.model_server import ScriptedModelServer
from tests.support.repos import git, make_calc_repo

pytestmark = pytest.mark.usefixtures("docker_available")


class Terminal:
    """A tmux session on its own server socket, 120x40."""

    def __init__(self, name: str) -> None:
        self.socket = name

    def tmux(self, *args: str) -> str:
        result = subprocess.run(
            ["tmux", "-L", self.socket, *args], capture_output=True, text=True, check=True
        )
        return result.stdout

    def start(self, command: list[str], cwd: Path, env: dict[str, str]) -> None:
        settings = [arg for key, value in env.items() for arg in ("-e", f"{key}={value}")]
        self.tmux(
            "new-session",
            "-d",
            "-s",
            "board",
            "-x",
            "120",
            "-y",
            "40",
            "-c",
            str(cwd),
            *settings,
            *command,
        )

    def screen(self) -> str:
        return self.tmux("capture-pane", "-p", "-t", "board")

    def keys(self, *keys: str, literal: bool = False) -> None:
        self.tmux("send-keys", "-t", "board", *(["-l"] if literal else []), *keys)

    def wait_for(self, text: str, timeout: float = 60.0) -> str:
        """Poll the screen until text shows, up to timeout seconds."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            screen = self.screen()
            if text in screen:
                return screen
            time.sleep(0.2)
        raise AssertionError(f"{text!r} did not appear on screen:\n{self.screen()}")

    def close(self) -> None:
        subprocess.run(["tmux", "-L", self.socket, "kill-server"], capture_output=True)


@pytest.fixture
def terminal() -> Iterator[Terminal]:
    if shutil.which("tmux") is None:
        pytest.fail("tmux is not installed (tests/run installs it)")
    session = Terminal(f"taskyard-test-{os.getpid()}")
    yield session
    session.close()


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
