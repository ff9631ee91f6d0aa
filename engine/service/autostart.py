"""Starting the service in the background when a client finds none, and waiting for it."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

from engine.errors import EngineError
from engine.paths import Paths
from engine.service.errors import NotRunning
from engine.service.unix import log_path, private_dir

T = TypeVar("T")

START_TIMEOUT_SECONDS = 60.0
POLL_SECONDS = 0.02
ALREADY_RUNNING_EXIT = 3
"""The exit status of a service that found another one holding the state dir's lock."""
ERROR_PREFIX = "taskyard: "
"""How the service begins the one line that says why it cannot serve."""


def service_command(paths: Paths) -> list[str]:
    """The command that runs the service of this state dir in the foreground. `-P`: the
    client's working directory (a project that may have its own `engine` package) is not put
    on the import path."""
    return [
        sys.executable,
        "-P",
        "-m",
        "engine.service",
        "--config-dir",
        str(paths.config_dir),
        "--state-dir",
        str(paths.state_dir),
    ]


async def start_service(
    paths: Paths, attempt: Callable[[], Awaitable[T]], timeout: float = START_TIMEOUT_SECONDS
) -> T:
    """Start the service in its own session, its output in the service log, and return what
    `attempt` (a connection) gives once it succeeds. A service that finds another holding the
    lock (one that is still dying, or that won a race) is started again until one answers.
    EngineError, with what the service wrote, when it exits otherwise or does not answer."""
    private_dir(paths)
    log = log_path(paths)
    give_up = time.monotonic() + timeout
    process, start = _spawn(paths, log)
    while True:
        try:
            return await attempt()
        except NotRunning:
            pass
        code = process.poll()
        if code == ALREADY_RUNNING_EXIT:
            process, start = _spawn(paths, log)
        elif code is not None:
            raise EngineError(_start_failure(log, start, code))
        if time.monotonic() > give_up:
            raise EngineError(
                f"the taskyard service did not answer within {timeout:g}s (log: {log})"
            )
        await asyncio.sleep(POLL_SECONDS)


def _spawn(paths: Paths, log: Path) -> tuple[subprocess.Popen[bytes], int]:
    """The service process, and where its output starts in the log."""
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
    return process, start


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
