"""A real terminal for board tests: tmux on its own server socket, driven by keys."""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest


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


@contextmanager
def tmux_terminal(name: str) -> Iterator[Terminal]:
    """A Terminal on socket `name`, its server killed on exit; fails without tmux."""
    if shutil.which("tmux") is None:
        pytest.fail("tmux is not installed (tests/run installs it)")
    session = Terminal(name)
    try:
        yield session
    finally:
        session.close()
