"""Running the service as a process: its lock, its log, its signals, and how it ends."""

from __future__ import annotations

import asyncio
import logging
import os
import sys

from engine.api import Engine
from engine.config import ConfigError
from engine.errors import EngineError
from engine.paths import Paths
from engine.service.autostart import ALREADY_RUNNING_EXIT
from engine.service.server import AlreadyRunning, Service, ServiceLock, stop_on_signals
from engine.service.unix import lock_path, private_dir

log = logging.getLogger("taskyard.service")


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
