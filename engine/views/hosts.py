"""What clients hold about hosts: their state and checks, and what garbage collection removed."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class HostStatus:
    """A host's row in `taskyard hosts`."""

    name: str
    address: str
    origin: str
    state: str
    error: str
    running: int
    queued: int
    max_tasks: int


@dataclass(frozen=True)
class HostCheck:
    """One step of `taskyard hosts check` or `taskyard doctor`: what was checked, whether it
    passed, details (what to do when it did not)."""

    step: str
    ok: bool
    detail: str


@dataclass(frozen=True)
class ContainerRemoval:
    """A container to remove: where it is, whose it is, why, and the bytes it holds."""

    host: str
    container_id: str
    task_id: str
    """The task the container's label names; a task this store does not know when orphan."""
    orphan: bool
    reason: str
    size: int = 0
    """Bytes in the container's writable layer."""


@dataclass(frozen=True)
class FileRemoval:
    """An archived task's logs directory or result bundle, and its bytes."""

    task_id: str
    kind: str
    """logs or bundle."""
    path: Path
    size: int


@dataclass(frozen=True)
class SkippedHost:
    """A host that could not be reached, so nothing on it was collected."""

    name: str
    reason: str


@dataclass(frozen=True)
class GcReport:
    """What a collection removed (or, dry, would remove), and what it could not reach."""

    dry_run: bool
    containers: list[ContainerRemoval] = field(default_factory=list)
    files: list[FileRemoval] = field(default_factory=list)
    skipped_hosts: list[SkippedHost] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    """Containers or files that could not be removed, each with the reason."""

    @property
    def freed(self) -> int:
        """Bytes freed (or that would be) by the containers and files removed."""
        return sum(item.size for item in self.containers) + sum(item.size for item in self.files)
