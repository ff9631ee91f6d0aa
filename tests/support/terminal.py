"""Real terminals for tests: tmux on its own server socket, driven by keys, and a bare pty that
records every byte a program writes to it."""

from __future__ import annotations

import os
import pty
import select
import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest


def size_free_environment() -> dict[str, str]:
    """This process's environment without COLUMNS and LINES. Something in the test process
    (readline, once imported) sets them in the C environment, which subprocesses inherit and
    os.environ does not show; a tmux server started with them hands 80x24 to every program,
    whatever the pane's size."""
    return {name: value for name, value in os.environ.items() if name not in ("COLUMNS", "LINES")}


class Terminal:
    """A tmux session on its own server socket, 120x40 unless started at another size."""

    def __init__(self, name: str) -> None:
        self.socket = name

    def tmux(self, *args: str) -> str:
        result = subprocess.run(
            ["tmux", "-L", self.socket, *args],
            capture_output=True,
            text=True,
            check=True,
            env=size_free_environment(),
        )
        return result.stdout

    def start(
        self, command: list[str], cwd: Path, env: dict[str, str], size: tuple[int, int] = (120, 40)
    ) -> None:
        """Run command in a new session of `size` columns and rows."""
        settings = [arg for key, value in env.items() for arg in ("-e", f"{key}={value}")]
        self.tmux(
            "new-session",
            "-d",
            "-s",
            "board",
            "-x",
            str(size[0]),
            "-y",
            str(size[1]),
            "-c",
            str(cwd),
            *settings,
            *command,
        )

    def keep_after_exit(self) -> None:
        """Keep the pane, and what it shows, after its program exits."""
        self.tmux("set-option", "-t", "board", "remain-on-exit", "on")

    def restart(self, command: list[str], cwd: Path) -> None:
        """Run `command` again in the pane kept after its program exited."""
        self.tmux("respawn-pane", "-k", "-t", "board", "-c", str(cwd), *command)

    def screen(self) -> str:
        return self.tmux("capture-pane", "-p", "-t", "board")

    def printed(self) -> str:
        """Everything the pane printed, its scrollback too, as one line of single spaces."""
        return " ".join(self.tmux("capture-pane", "-p", "-S", "-", "-t", "board").split())

    def wait_for_printed(self, text: str, timeout: float = 60.0) -> str:
        """Poll what the pane printed until text shows (across line breaks)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if text in (printed := self.printed()):
                return printed
            time.sleep(0.2)
        raise AssertionError(f"{text!r} was not printed:\n{self.printed()}")

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


def run_on_pty(
    command: list[str], env: dict[str, str], cwd: Path | None = None, timeout: float = 600
) -> tuple[int, bytes]:
    """Run command with its stdout and stderr on a real pty; its exit status and every byte it
    wrote there (newlines as the pty's line discipline sends them: CR LF)."""
    parent, child = pty.openpty()
    try:
        process = subprocess.Popen(
            command, stdin=subprocess.DEVNULL, stdout=child, stderr=child, env=env, cwd=cwd
        )
    finally:
        os.close(child)
    try:
        written = read_until_closed(parent, time.monotonic() + timeout)
        return process.wait(timeout=60), written
    finally:
        os.close(parent)
        if process.poll() is None:
            process.kill()


def read_until_closed(fd: int, deadline: float) -> bytes:
    """Everything read from a pty's parent side until every writer closed the child side."""
    chunks: list[bytes] = []
    while True:
        ready, _, _ = select.select([fd], [], [], max(0.0, deadline - time.monotonic()))
        if not ready:
            raise AssertionError(f"timed out; the pty so far:\n{b''.join(chunks)!r}")
        try:
            data = os.read(fd, 65536)
        except OSError:
            return b"".join(chunks)
        if not data:
            return b"".join(chunks)
        chunks.append(data)
