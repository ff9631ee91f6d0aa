"""What `taskyard gc` plans to remove: each rule, and the containers it never touches."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from engine.api import Engine
from engine.config import Config
from engine.hosts.gc import (
    HOME_LABEL,
    TASK_LABEL,
    FoundContainer,
    plan_containers,
    plan_files,
    removal_reason,
)
from engine.paths import Paths
from engine.views.task import ACTIVE, TERMINAL, TaskRecord, TaskStatus
from sandboxes.base import SandboxSpec
from sandboxes.fake import FakeBackend, FakeSandbox
from tests.support.board import store_task

NOW = 1_767_225_600.0
HOUR = 3600.0
HOME = "/home/me/.local/state/taskyard"
OTHER_HOME = "/srv/other/state"


def task(task_id: str, status: TaskStatus = TaskStatus.READY, **fields: Any) -> TaskRecord:
    values: dict[str, Any] = {
        "id": task_id,
        "created": NOW - 100 * HOUR,
        "updated": NOW - HOUR,
        "prompt": "Fix the failing test",
        "repo": "/work/calc",
        "ref": "main",
        "mode": "code",
        "environment": "default",
        "image": "taskyard-sandbox:latest",
        "status": status,
        **fields,
    }
    return TaskRecord(**values)


def container(task_id: str, home: str = HOME, host: str = "local") -> FoundContainer:
    return FoundContainer(host, f"{task_id}-container", {TASK_LABEL: task_id, HOME_LABEL: home})


def planned(tasks: list[TaskRecord], containers: list[FoundContainer]) -> dict[str, str]:
    """Container id -> reason, for what the plan removes with keep_hours = 24."""
    by_id = {record.id: record for record in tasks}
    return {
        removal.container_id: removal.reason
        for removal in plan_containers(by_id, containers, HOME, NOW, keep_hours=24)
    }


@pytest.mark.parametrize("status", sorted(TERMINAL | {TaskStatus.ACCEPTED, TaskStatus.PR_OPENED}))
def test_a_task_ended_longer_ago_than_keep_hours_loses_its_container(status: TaskStatus) -> None:
    old = task("old", status, updated=NOW - 30 * HOUR)
    assert planned([old], [container("old")]) == {"old-container": "ended 30h ago"}


def test_a_task_ended_within_keep_hours_keeps_its_container_for_follow_ups() -> None:
    recent = task("recent", TaskStatus.CANCELLED, updated=NOW - 23 * HOUR)
    assert planned([recent], [container("recent")]) == {}


def test_an_archived_task_loses_its_container_at_once() -> None:
    archived = task("archived", archived=True, updated=NOW - 60)
    assert planned([archived], [container("archived")]) == {"archived-container": "archived"}


def test_a_container_of_no_task_in_this_store_is_an_orphan() -> None:
    removals = plan_containers({}, [container("gone")], HOME, NOW, keep_hours=24)
    assert [(r.container_id, r.orphan, r.reason) for r in removals] == [
        ("gone-container", True, "no task in this store")
    ]


@pytest.mark.parametrize("status", sorted(ACTIVE))
def test_an_active_task_keeps_its_container_even_archived_and_old(status: TaskStatus) -> None:
    active = task("active", status, archived=True, updated=NOW - 1000 * HOUR)
    assert planned([active], [container("active")]) == {}
    assert removal_reason(active, NOW, keep_hours=24) is None


def test_containers_of_another_store_are_never_planned() -> None:
    ours = task("old", updated=NOW - 30 * HOUR, archived=True)
    theirs = [container("old", home=OTHER_HOME), container("unknown", home=OTHER_HOME)]
    unlabelled = FoundContainer("local", "bare", {TASK_LABEL: "unknown"})
    assert planned([ours], [*theirs, unlabelled]) == {}


def test_a_container_listed_by_two_hosts_is_planned_once() -> None:
    old = task("old", updated=NOW - 30 * HOUR)
    twice = [container("old", host="local"), container("old", host="alias")]
    removals = plan_containers({"old": old}, twice, HOME, NOW, keep_hours=24)
    assert [(r.host, r.task_id) for r in removals] == [("local", "old")]


def test_keep_hours_is_the_threshold() -> None:
    ended = task("ended", updated=NOW - 3 * HOUR)
    assert removal_reason(ended, NOW, keep_hours=2) == "ended 3h ago"
    assert removal_reason(ended, NOW, keep_hours=4) is None


def test_only_archived_inactive_tasks_lose_their_logs_and_bundle(tmp_path: Path) -> None:
    paths = Paths(config_dir=tmp_path / "config", state_dir=tmp_path / "state").ensure()
    for task_id in ("archived", "active", "kept"):
        (paths.logs_dir / task_id).mkdir()
        (paths.logs_dir / task_id / "c1.log").write_bytes(b"x" * 100)
        (paths.results_dir / f"{task_id}.bundle").write_bytes(b"y" * 30)
    tasks = [
        task("archived", archived=True),
        task("active", TaskStatus.RUNNING, archived=True),
        task("kept", updated=NOW - 1000 * HOUR),
    ]
    files = plan_files(tasks, paths)
    assert [(f.task_id, f.kind, f.path, f.size) for f in files] == [
        ("archived", "logs", paths.logs_dir / "archived", 100),
        ("archived", "bundle", paths.results_dir / "archived.bundle", 30),
    ]


class FollowUpOnFirstAttach(FakeBackend):
    """A fake host on which `follow_up()` runs when gc attaches its first sandbox, as if a
    follow-up of another task started meanwhile."""

    def __init__(self, base_dir: Path) -> None:
        super().__init__(base_dir)
        self.follow_up: Callable[[], None] | None = None

    async def attach(self, sandbox_id: str) -> FakeSandbox:
        follow_up, self.follow_up = self.follow_up, None
        if follow_up is not None:
            follow_up()
        return await super().attach(sandbox_id)


async def archived_pair(tmp_path: Path) -> tuple[Engine, FollowUpOnFirstAttach, list[str]]:
    """An engine on a fake host with two archived ready tasks, each with its sandbox."""
    (tmp_path / "sandboxes").mkdir()
    backend = FollowUpOnFirstAttach(tmp_path / "sandboxes")
    paths = Paths(config_dir=tmp_path / "config", state_dir=tmp_path / "state")
    engine = Engine(paths, Config(), backend=backend)
    ids = []
    for task_id in ("aaaa0001", "bbbb0002"):
        store_task(engine, task_id, archived=True)
        labels = {TASK_LABEL: task_id, HOME_LABEL: str(paths.state_dir)}
        ids.append((await backend.create(SandboxSpec("debian:bookworm-slim", labels))).id)
    return engine, backend, ids


async def test_a_dry_run_measures_and_removes_nothing(tmp_path: Path) -> None:
    engine, backend, ids = await archived_pair(tmp_path)
    await (await backend.attach(ids[0])).write_file("/workspace/blob", b"x" * 2048)
    report = await engine.collect_garbage(dry_run=True)
    assert [(c.container_id, c.size) for c in report.containers] == [(ids[0], 2048), (ids[1], 0)]
    assert report.freed == 2048
    assert [info.id for info in await backend.list()] == ids
    await engine.close()


async def test_a_task_that_becomes_active_during_gc_keeps_its_container(tmp_path: Path) -> None:
    engine, backend, ids = await archived_pair(tmp_path)
    backend.follow_up = lambda: engine.lifecycle.move("bbbb0002", TaskStatus.RUNNING)
    report = await engine.collect_garbage()
    assert [c.task_id for c in report.containers] == ["aaaa0001"]
    assert [info.id for info in await backend.list()] == [ids[1]]
    await engine.close()
