"""Starting the service in the background when a client finds none, and waiting for it."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

from engine.errors import EngineError
from engine.paths import Paths
from engine.service.unix import SocketAddress, log_path, private_dir, socket_path

START_TIMEOUT_SECONDS = 60.0
POLL_SECONDS = 0.02
ALREADY_RUNNING_EXIT = 3
"""The exit status of a service that found another one holding the state dir's lock."""
ERROR_PREFIX = "taskyard: "
"""How the service begins the one line that says why it cannot serve."""


def service_command(paths: Paths) -> list[str]:
    """The command that runs the service of this state dir in the foreground."""
    return [
        sys.executable,
        "-m",
        "engine.service",
        "--config-dir",
        str(paths.config_dir),
        "--state-dir",
        str(paths.state_dir),
    ]


async def start_service(paths: Paths, timeout: float = START_TIMEOUT_SECONDS) -> None:
    """Start the service in its own session, its output in the service log; return once it
    listens. EngineError, with the end of its log, when it exits or does not answer in time."""
    private_dir(paths)
    log = log_path(paths)
    with open(log, "ab") as output:
        start = output.tell()
        process = subprocess.Popen(
            service_command(paths),
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            env=os.environ.copy(),
        )
    give_up = time.monotonic() + timeout
    while not _listening(paths):
        code = process.poll()
        if code is not None and code != ALREADY_RUNNING_EXIT:
            raise EngineError(_start_failure(log, start, code))
        if time.monotonic() > give_up:
            raise EngineError(
                f"the taskyard service did not answer within {timeout:g}s (log: {log})"
            )
        await asyncio.sleep(POLL_SECONDS)


def _listening(paths: Paths) -> bool:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
        try:
            with SocketAddress(socket_path(paths)) as address:
                probe.connect(address)
        except OSError:
            return False
    return True


def _start_failure(log: Path, start: int, code: int) -> str:
    """One line on why the service exited: its own `taskyard: ...` line when it printed one (a
    bad config, say), else its last line and where its log is."""
    with open(log, "rb") as output:
        output.seek(start)
        lines = output.read().decode("utf-8", errors="replace").strip().splitlines()
    said = [line for line in lines if line.startswith(ERROR_PREFIX)]
    if said:
        return said[-1].removeprefix(ERROR_PREFIX)
    last = f": {lines[-1].strip()}" if lines else ""
    return f"the taskyard service did not start (exit {code}){last} (log: {log})"
