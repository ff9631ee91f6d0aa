"""The host pool: each task goes to a reachable host with a free slot; the rest wait in order."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from engine.hosts.host import Host, HostError
from sandboxes.base import SandboxBackend

DOWN_RETRY_SECONDS = 30.0
"""A host found down is not offered to unpinned tasks again for this long."""


@dataclass
class _Waiter:
    task_id: str
    pinned: str | None
    placed: asyncio.Future[Host] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )


class HostPool:
    """Hosts by name; `place` reserves a slot on one and reaches it, waiting while all are full."""

    def __init__(self, hosts: list[Host], clock: Callable[[], float] = time.monotonic) -> None:
        self.hosts = {host.name: host for host in hosts}
        self._waiting: list[_Waiter] = []
        self._down_since: dict[str, float] = {}
        self._clock = clock

    def get(self, name: str) -> Host:
        """The named host; HostError naming the known ones otherwise."""
        if name in self.hosts:
            return self.hosts[name]
        known = ", ".join(self.hosts) or "none"
        raise HostError(f"unknown host {name!r}: known hosts are {known} (`taskyard hosts`)")

    def queued(self, name: str | None = None) -> int:
        """Tasks waiting for a slot: all of them, or those pinned to the named host."""
        return sum(1 for w in self._waiting if name is None or w.pinned == name)

    async def place(self, task_id: str, pinned: str | None = None) -> tuple[Host, SandboxBackend]:
        """A slot on a reachable host (the pinned one, if named) and its backend. Unreachable
        hosts are skipped for unpinned tasks; HostError when no host can be reached."""
        if pinned is not None:
            self.get(pinned)
        while True:
            host = await self._acquire(task_id, pinned)
            try:
                return host, await host.connect()
            except HostError:
                self.release(task_id)
                self._down_since[host.name] = self._clock()
                if pinned is not None or not self._usable(None):
                    raise

    def release(self, task_id: str) -> None:
        """The task no longer holds a slot; give free slots to those waiting."""
        for host in self.hosts.values():
            host.running.discard(task_id)
        self._dispatch()

    async def _acquire(self, task_id: str, pinned: str | None) -> Host:
        if not self._usable(pinned):
            raise HostError(self._nothing_usable(pinned))
        waiter = _Waiter(task_id, pinned)
        self._waiting.append(waiter)
        self._dispatch()
        try:
            return await waiter.placed
        except asyncio.CancelledError:
            if waiter in self._waiting:
                self._waiting.remove(waiter)
            elif waiter.placed.done() and not waiter.placed.cancelled():
                self.release(task_id)
            raise

    def _dispatch(self) -> None:
        for waiter in list(self._waiting):
            if waiter.placed.done():
                self._waiting.remove(waiter)
                continue
            host = self._pick(waiter.pinned)
            if host is not None:
                host.running.add(waiter.task_id)
                self._waiting.remove(waiter)
                waiter.placed.set_result(host)

    def _candidates(self, pinned: str | None) -> list[Host]:
        if pinned is not None:
            return [self.hosts[pinned]]
        now = self._clock()
        return [
            host
            for host in self.hosts.values()
            if now - self._down_since.get(host.name, -DOWN_RETRY_SECONDS) >= DOWN_RETRY_SECONDS
            or host.state in ("connected", "reconnecting")
        ]

    def _usable(self, pinned: str | None) -> bool:
        return bool(self._candidates(pinned))

    def _pick(self, pinned: str | None) -> Host | None:
        """The candidate with the largest share of its slots free (a connected one on a tie)."""
        free = [host for host in self._candidates(pinned) if host.free > 0]
        if not free:
            return None
        return max(free, key=lambda h: (h.free / h.spec.max_tasks, h.state == "connected"))

    def _nothing_usable(self, pinned: str | None) -> str:
        problems = "; ".join(f"{h.name}: {h.error or h.state}" for h in self.hosts.values())
        return f"no Docker host can take tasks now ({problems}): check them with `taskyard hosts`"

    async def close(self) -> None:
        for waiter in self._waiting:
            waiter.placed.cancel()
        await asyncio.gather(*(host.close() for host in self.hosts.values()))
