"""A service for tests: an engine served on a real socket in this process, and its clients."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from engine.api import Engine
from engine.service.client import ServiceClient
from engine.service.server import Service


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
