"""Garbage collection: the containers, logs and result bundles this store no longer needs.

`plan_containers` decides from the tasks and the containers found, touching nothing;
`collect` finds this store's containers on every reachable host, measures what was planned,
and removes it. A container of an active task, or of another store, is never planned.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path

from engine.hosts.host import HostError
from engine.hosts.pool import HostPool
from engine.paths import Paths
from engine.record.store import Store
from engine.views.hosts import ContainerRemoval, FileRemoval, GcReport, SkippedHost
from engine.views.task import ACTIVE, TaskRecord
from sandboxes.base import SandboxBackend, SandboxError

TASK_LABEL = "dev.taskyard.task"
"""The label holding the id of the task a container runs."""
HOME_LABEL = "dev.taskyard.home"
"""The label holding the state dir of the store that made a container."""
HOUR = 3600.0


@dataclass(frozen=True)
class FoundContainer:
    """A taskyard container found on a host, with its labels."""

    host: str
    id: str
    labels: Mapping[str, str]

    @property
    def task_id(self) -> str:
        return self.labels.get(TASK_LABEL, "")

    @property
    def home(self) -> str:
        return self.labels.get(HOME_LABEL, "")


def removal_reason(task: TaskRecord | None, now: float, keep_hours: float) -> str | None:
    """Why a container of `task` (None: no task in this store) goes; None when it stays.

    An active task's container always stays, and so does that of a task ended less than
    `keep_hours` ago and not archived: it can still be followed up."""
    if task is None:
        return "no task in this store"
    if task.status in ACTIVE:
        return None
    if task.archived:
        return "archived"
    hours = (now - task.updated) / HOUR
    return f"ended {hours:.0f}h ago" if hours > keep_hours else None


def plan_containers(
    tasks: Mapping[str, TaskRecord],
    containers: Iterable[FoundContainer],
    home: str,
    now: float,
    keep_hours: float,
) -> list[ContainerRemoval]:
    """The containers of store `home` to remove, each once (a Docker engine reached as two
    hosts lists them twice); containers of any other store are never planned."""
    planned: dict[str, ContainerRemoval] = {}
    for container in containers:
        if container.home != home or container.id in planned:
            continue
        task = tasks.get(container.task_id)
        reason = removal_reason(task, now, keep_hours)
        if reason is not None:
            planned[container.id] = ContainerRemoval(
                container.host, container.id, container.task_id, task is None, reason
            )
    return list(planned.values())


def plan_files(tasks: Iterable[TaskRecord], paths: Paths) -> list[FileRemoval]:
    """The logs directories and result bundles of archived tasks that are not active."""
    planned: list[FileRemoval] = []
    for task in tasks:
        if not task.archived or task.status in ACTIVE:
            continue
        for kind, path in task_files(task.id, paths):
            if path.exists():
                planned.append(FileRemoval(task.id, kind, path, path_size(path)))
    return planned


def task_files(task_id: str, paths: Paths) -> list[tuple[str, Path]]:
    """Where a task's logs and result bundle live under the state dir."""
    return [
        ("logs", paths.logs_dir / task_id),
        ("bundle", paths.results_dir / f"{task_id}.bundle"),
    ]


def path_size(path: Path) -> int:
    """Bytes of a file, or of every file under a directory (symlinks not followed)."""
    if not path.is_dir() or path.is_symlink():
        return path.lstat().st_size
    return sum(
        (Path(root) / name).lstat().st_size for root, _, names in os.walk(path) for name in names
    )


def remove_path(path: Path) -> None:
    """Remove a file or a directory tree."""
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    else:
        path.unlink(missing_ok=True)


class GarbageCollector:
    """One collection over a store, its state dir and its hosts."""

    def __init__(self, store: Store, paths: Paths, hosts: HostPool, keep_hours: float) -> None:
        self._store = store
        self._paths = paths
        self._hosts = hosts
        self._keep_hours = keep_hours
        self._home = str(paths.state_dir)
        self._backends: dict[str, SandboxBackend] = {}

    async def collect(self, dry_run: bool, with_files: bool) -> GcReport:
        """Remove (unless `dry_run`) what the plan names; with `with_files`, archived tasks'
        logs and bundles too."""
        report = GcReport(dry_run)
        containers = await self._find_containers(report)
        tasks = {task.id: task for task in self._store.list_tasks(include_archived=True)}
        planned = plan_containers(tasks, containers, self._home, time.time(), self._keep_hours)
        for removal in planned:
            await self._remove_container(removal, report)
        if with_files:
            files = await asyncio.to_thread(plan_files, tasks.values(), self._paths)
            for file in files:
                await self._remove_file(file, report)
        return report

    async def _find_containers(self, report: GcReport) -> list[FoundContainer]:
        """This store's containers on every host reached; the others go to the report."""
        found: list[FoundContainer] = []
        for name, host in self._hosts.hosts.items():
            try:
                backend = await host.connect()
                sandboxes = await backend.list({HOME_LABEL: self._home})
            except (HostError, SandboxError) as error:
                report.skipped_hosts.append(SkippedHost(name, str(error)))
                continue
            self._backends[name] = backend
            found.extend(FoundContainer(name, info.id, info.labels) for info in sandboxes)
        return found

    async def _remove_container(self, removal: ContainerRemoval, report: GcReport) -> None:
        """Measure the container and remove it, unless its task has become active since."""
        current = self._store.get_task(removal.task_id)
        if removal_reason(current, time.time(), self._keep_hours) is None:
            return
        try:
            sandbox = await self._backends[removal.host].attach(removal.container_id)
            size = (await sandbox.disk_usage()).written
            if not report.dry_run:
                await sandbox.remove()
        except SandboxError as error:
            report.failures.append(f"container {removal.container_id[:12]}: {error}")
            return
        report.containers.append(replace(removal, size=size))

    async def _remove_file(self, removal: FileRemoval, report: GcReport) -> None:
        """Remove one archived task's logs or bundle, unless the task has become active."""
        current = self._store.get_task(removal.task_id)
        if current is None or current.status in ACTIVE:
            return
        if not report.dry_run:
            try:
                await asyncio.to_thread(remove_path, removal.path)
            except OSError as error:
                report.failures.append(f"{removal.path}: {error}")
                return
        report.files.append(removal)
