"""`taskyard demo` in tmux at 80x24, as a newcomer plays it: no key, its own service, a real
container; a task started from the keyboard streams, its result is accepted, and the accepted
branch's tests pass in the demo's repository."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import docker
import pytest

from engine.hosts.gc import HOME_LABEL
from tests.support.cli import TASKYARD
from tests.support.repos import git
from tests.support.terminal import Terminal, tmux_terminal

pytestmark = pytest.mark.usefixtures("docker_available")

PROMPT = "Make the discount test pass"


@pytest.fixture
def terminal() -> Iterator[Terminal]:
    with tmux_terminal(f"taskyard-demo-test-{os.getpid()}") as session:
        yield session


def wait_for_branch(repo: Path, timeout: float = 30) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if branches := git(repo, "branch", "--list", "taskyard/*", "--format=%(refname:short)"):
            return branches
        time.sleep(0.2)
    raise AssertionError(f"no taskyard/* branch appeared in {repo}")


def demo_containers(state_dir: Path) -> list[str]:
    client = docker.from_env(timeout=30)
    try:
        found = client.containers.list(all=True, filters={"label": f"{HOME_LABEL}={state_dir}"})
        return [container.name for container in found]
    finally:
        client.close()


def test_the_demo_streams_a_fix_that_is_accepted_and_passes(
    terminal: Terminal, tmp_path: Path
) -> None:
    demo = tmp_path / "demo"
    env = {"TERM": "xterm-256color", "OPENAI_API_KEY": "", "OPENAI_BASE_URL": "http://0.0.0.0:9"}
    terminal.start([TASKYARD, "demo", "--dir", str(demo)], tmp_path, env, size=(80, 24))
    terminal.keep_after_exit()
    screen = terminal.wait_for("offline demo model · hosts", timeout=120)
    assert " DEMO " in screen
    terminal.keys("n")
    terminal.wait_for("New task")
    terminal.keys(PROMPT, literal=True)
    terminal.wait_for(PROMPT, timeout=5)
    terminal.keys("C-s")
    terminal.wait_for("Started task", timeout=30)
    terminal.keys("Enter")
    streaming = terminal.wait_for("-360.0 != 36.0", timeout=60)
    assert PROMPT in streaming and "running" in streaming
    terminal.wait_for("ready  ·", timeout=120)
    terminal.keys("t")
    result = terminal.wait_for("Changes to accept", timeout=30)
    assert "minicart/cart.py" in result
    terminal.keys("a")
    terminal.wait_for("a new branch", timeout=30)
    terminal.keys("Enter")
    branch = wait_for_branch(demo / "minicart")
    terminal.keys("q")
    printed = terminal.wait_for_printed("`taskyard demo` starts a fresh demo", timeout=60)
    assert f"staysin{demo / 'minicart'}" in "".join(printed.split())  # however it wrapped
    assert demo_containers(demo / "home" / "state") == []
    checkout = tmp_path / "checkout"
    git(demo / "minicart", "worktree", "add", "-q", str(checkout), branch)
    tests = subprocess.run(
        [sys.executable, "-B", "-m", "unittest", "-v"],
        cwd=checkout,
        capture_output=True,
        text=True,
        check=False,
    )
    assert tests.returncode == 0, tests.stderr
    assert "test_ten_percent_discount" in tests.stderr
    assert git(demo / "minicart", "branch", "--show-current") == "main"
