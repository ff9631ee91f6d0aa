"""Ownership of tasks by lease: an owner id and a heartbeat in the store, renewed while tasks run.

A pid can be reused after a reboot; a heartbeat that stopped cannot pass for a live owner.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import Callable

from engine.record.store import Store

LEASE_SECONDS = 30.0
"""A lease whose heartbeat is older than this is stale: its owner is taken to be gone."""
HEARTBEAT_SECONDS = 5.0
"""How often an owner with running tasks renews its lease."""


class Lease:
    """One engine's claim on the tasks it runs, renewed every `interval` while `busy()`."""

    def __init__(
        self, store: Store, busy: Callable[[], bool], interval: float = HEARTBEAT_SECONDS
    ) -> None:
        self.owner = secrets.token_hex(8)
        self._store = store
        self._busy = busy
        self._interval = interval
        self._heartbeat: asyncio.Task[None] | None = None

    def claim(self) -> str:
        """Renew the lease now, keep renewing it while busy, and return the owner id."""
        self._store.renew_lease(self.owner, time.time())
        if self._heartbeat is None or self._heartbeat.done():
            self._heartbeat = asyncio.create_task(self._beat(), name=f"lease-{self.owner}")
        return self.owner

    async def _beat(self) -> None:
        while True:
            await asyncio.sleep(self._interval)
            if not self._busy():
                return
            self._store.renew_lease(self.owner, time.time())

    async def release(self) -> None:
        """Stop renewing and drop the lease from the store."""
        if self._heartbeat is not None:
            self._heartbeat.cancel()
            await asyncio.gather(self._heartbeat, return_exceptions=True)
        self._store.drop_lease(self.owner)

    def drop(self) -> None:
        """Drop the lease from the store at once, heartbeat or not (the process is ending)."""
        self._store.drop_lease(self.owner)


def live_owners(store: Store, stale_after: float = LEASE_SECONDS) -> set[str]:
    """The owners whose lease was renewed within `stale_after` seconds."""
    return store.owners_renewed_since(time.time() - stale_after)
