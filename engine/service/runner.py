"""Running the service as a process: its lock, its log, its signals, and how it ends."""

from __future__ import annotations

import asyncio
import fcntl
import logging
import os
import sys
from typing import IO

from engine.api import Engine
from engine.config import ConfigError
from engine.errors import EngineError
from engine.paths import Paths
from engine.service.autostart import ALREADY_RUNNING_EXIT
from engine.service.server import Service, stop_on_signals
from engine.service.unix import lock_path, private_dir

log = logging.getLogger("taskyard.service")


class AlreadyRunning(EngineError):
    """Another service holds this state dir's lock."""


class ServiceLock:
    """An exclusive lock on the state dir's service, its pid inside: held for the life of the
    process (the kernel releases it when the process ends, however it ends)."""

    def __init__(self, path: os.PathLike[str]) -> None:
        self._path = path
        self._file: IO[str] | None = None

    def acquire(self) -> None:
        handle = open(self._path, "a+")  # noqa: SIM115 (held for the service's life)
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            raise AlreadyRunning(
                "a taskyard service is already running for this state dir"
            ) from None
        handle.truncate(0)
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        self._file = handle


def serve_forever(paths: Paths) -> int:
    """Serve the state dir's tasks until stopped or idle; 3 when a service already runs.

    When it ends, running tasks are left as they are, in their containers: the process exits
    without cancelling them and drops its lease, so the next service takes them up at once.
    """
    logging.basicConfig(
        stream=sys.stderr, level=logging.INFO, format="%(asctime)s %(name)s: %(message)s"
    )
    private_dir(paths.ensure())
    lock = ServiceLock(lock_path(paths))
    try:
        lock.acquire()
    except AlreadyRunning as error:
        print(f"taskyard: {error}", file=sys.stderr)
        return ALREADY_RUNNING_EXIT
    try:
        asyncio.run(_serve(paths))
    except (ConfigError, EngineError) as error:
        print(f"taskyard: {error}", file=sys.stderr)
        return 2
    return 0


async def _serve(paths: Paths) -> None:
    """Serve, then leave the tasks running: exit before asyncio would cancel them."""
    engine = Engine(paths)
    service = Service(engine)
    stop_on_signals(service)
    await service.run(take_up=True)
    engine.abandon()
    log.info("service %s stopped; its running tasks go on", os.getpid())
    logging.shutdown()
    sys.stderr.flush()
    os._exit(0)
