"""Stops work whose sandbox writes past `[sandbox] disk` where the storage driver cannot."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from dataclasses import dataclass
from typing import Any, TypeVar

from engine.config import size_bytes
from sandboxes.base import Sandbox, SandboxError

log = logging.getLogger(__name__)

T = TypeVar("T")


class DiskLimitExceeded(Exception):
    """The sandbox wrote more than `[sandbox] disk`; the message says how much."""


@dataclass(frozen=True)
class DiskLimit:
    """`[sandbox] disk` as written in the config, and how often to measure against it."""

    text: str
    check_seconds: float

    @property
    def bytes(self) -> int:
        return size_bytes(self.text)


async def within_disk_limit(
    work: Coroutine[Any, Any, T], sandbox: Sandbox, limit: DiskLimit | None
) -> T:
    """Run work; DiskLimitExceeded, with work cancelled, once the sandbox has written past the
    limit. Nothing is watched without a limit, or where the storage driver enforces it."""
    task = asyncio.current_task()
    if limit is None or task is None:
        return await work
    watch = DiskWatch(sandbox, limit, task)
    watcher = asyncio.create_task(watch.run(), name=f"taskyard-disk-{sandbox.id[:12]}")
    try:
        return await work
    except asyncio.CancelledError:
        if watch.exceeded and task.uncancel() == 0:
            raise DiskLimitExceeded(watch.exceeded) from None
        raise
    finally:
        watcher.cancel()


class DiskWatch:
    """Measures a sandbox's written bytes every few seconds; cancels `task` past the limit."""

    def __init__(self, sandbox: Sandbox, limit: DiskLimit, task: asyncio.Task[Any]) -> None:
        self._sandbox = sandbox
        self._limit = limit
        self._task = task
        self.exceeded = ""
        """Why the task was cancelled; empty while within the limit."""

    async def run(self) -> None:
        while True:
            await asyncio.sleep(self._limit.check_seconds)
            try:
                usage = await self._sandbox.disk_usage()
            except SandboxError as error:
                log.warning("could not measure sandbox %s: %s", self._sandbox.id, error)
                continue
            if usage.enforced:
                return
            if usage.written > self._limit.bytes:
                self.exceeded = exceeded_message(usage.written, self._limit.text)
                self._task.cancel()
                return


def exceeded_message(written: int, limit_text: str) -> str:
    return (
        f"the sandbox wrote {size_text(written)}, past [sandbox] disk = {limit_text}: raise "
        "[sandbox] disk, or ask for work that writes less"
    )


def size_text(size: int) -> str:
    """A byte count for people: 52.4 MiB, 2.1 GiB."""
    if size >= 1024**3:
        return f"{size / 1024**3:.1f} GiB"
    return f"{size / 1024**2:.1f} MiB"
