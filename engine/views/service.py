"""What clients hold about the service itself."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ServiceStatus:
    """What `taskyard serve status` reports."""

    pid: int
    version: int
    started: float
    uptime_seconds: float
    socket: str
    active_tasks: list[str]
    clients: int
    log: str
