"""The log view in the real board, in tmux: `o` on a command shows its whole output, and `p`
hands the terminal to $PAGER (a script here) on an inert copy, the board suspended meanwhile,
then takes it back."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.board import store_command, store_task, stored_engine
from tests.support.cli import TASKYARD
from tests.support.terminal import Terminal, tmux_terminal

TASK = "logs0001"
HOSTILE = "\x1b]0;pwned\x07\x1b[2J\x1b[?1049h\x9b2J"
OUTPUT = "".join(f"step {number}{HOSTILE}\n" for number in range(1, 501))


@pytest.fixture
def terminal() -> Iterator[Terminal]:
    with tmux_terminal(f"taskyard-log-{os.getpid()}") as session:
        yield session


def test_p_in_the_log_view_pages_an_inert_copy_and_the_board_comes_back(
    terminal: Terminal, tmp_path: Path
) -> None:
    engine = stored_engine(tmp_path / "home")
    store_task(engine, TASK, prompt="Build the project")
    store_command(engine, TASK, "c0ffee01", ["make", "-k"], OUTPUT, exit_code=2)
    engine.store.close()
    pager = tmp_path / "pager.sh"
    pager.write_text(
        f'#!/bin/sh\ncat "$1" > {tmp_path}/paged.txt\necho "in the pager"\nread answer\n'
    )
    pager.chmod(0o755)
    repo = tmp_path / "repo"
    repo.mkdir()
    env = {
        "TASKYARD_HOME": str(tmp_path / "home"),
        "PAGER": str(pager),
        "TERM": "xterm-256color",
    }
    terminal.start([TASKYARD], repo, env)
    terminal.wait_for("Build the project", timeout=20)
    terminal.keys("Enter")
    terminal.wait_for("Log  Result")
    terminal.keys("t")
    terminal.wait_for("Task ready")
    terminal.keys("Tab")
    terminal.wait_for("Full log")
    terminal.keys("o")
    assert "step 500" in terminal.wait_for("Output  task logs0001")
    terminal.keys("Home")
    terminal.wait_for("step 1\n")
    terminal.keys("p")
    terminal.wait_for("in the pager")
    assert (tmp_path / "paged.txt").read_text() == "".join(
        f"step {number}\n" for number in range(1, 501)
    )
    terminal.keys("Enter")
    screen = terminal.wait_for("Output  task logs0001")
    assert "step 1" in screen
    terminal.keys("Escape")
    terminal.wait_for("Log  Result")
