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
            written = _written(log, start)
            raise EngineError(f"the taskyard service did not start (exit {code}):\n{written}")
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


def _written(path: os.PathLike[str], start: int, lines: int = 15) -> str:
    """The last `lines` lines written to the log from byte `start` on."""
    with open(path, "rb") as log:
        log.seek(start)
        text = log.read().decode("utf-8", errors="replace")
    return "\n".join(text.rstrip().splitlines()[-lines:])
