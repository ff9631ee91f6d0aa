"""A service for tests: an engine served on a real socket in this process, and its clients."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time
from collections.abc import AsyncIterator
from pathlib import Path

from engine.api import Engine
from engine.service.client import ServiceClient
from engine.service.server import Service
from engine.service.unix import locking_pid
from engine.views.events import OutputChunk


@contextlib.asynccontextmanager
async def served(engine: Engine, idle_minutes: float = 60.0) -> AsyncIterator[Service]:
    """Serve `engine` on its state dir's socket for the block; close the engine after."""
    service = Service(engine, idle_minutes=idle_minutes)
    ready = asyncio.Event()
    serving = asyncio.create_task(service.run(ready=ready.set))
    await asyncio.wait_for(ready.wait(), timeout=10)
    try:
        yield service
    finally:
        service.stop()
        await serving
        await engine.close()


@contextlib.asynccontextmanager
async def client_of(engine: Engine, name: str = "test") -> AsyncIterator[ServiceClient]:
    """A client connected to `engine` served in this process."""
    async with served(engine):
        client = await ServiceClient.open(engine.paths, name)
        try:
            yield client
        finally:
            await client.close()


def stop_services_under(root: Path, timeout: float = 10.0) -> None:
    """SIGTERM every service whose state dir is under `root`; SIGKILL what outlives `timeout`."""
    pids = [pid for lock in root.rglob("service/service.lock") if (pid := locking_pid(lock))]
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    for pid in pids:
        while process_alive(pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def process_alive(pid: int) -> bool:
    """Whether `pid` runs; a child that ended is reaped, so a zombie counts as gone."""
    with contextlib.suppress(ChildProcessError):
        if os.waitpid(pid, os.WNOHANG)[0] == pid:
            return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


async def until_output_lines(client: ServiceClient, task_ids: list[str], lines: int) -> None:
    """Return once every task's output, as the client receives it, holds `lines` lines."""
    counts = dict.fromkeys(task_ids, 0)
    subscription = await client.subscribe()
    async for event in subscription:
        if isinstance(event, OutputChunk) and event.task_id in counts:
            counts[event.task_id] += event.text.count("\n")
            if min(counts.values()) >= lines:
                break
    subscription.close()
