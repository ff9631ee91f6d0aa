"""The store records before it publishes, and keeps what an owner whose lease expired left."""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path

import pytest

from engine.api import Engine
from engine.config import Config
from engine.paths import Paths
from engine.record.bus import EventBus
from engine.record.lease import LEASE_SECONDS, Lease
from engine.record.store import Store
from engine.views.events import CommandStarted, OutputChunk, TaskStatusChanged, event_from_dict
from engine.views.task import TaskRecord


def record(task_id: str, status: str, owner: str) -> TaskRecord:
    now = time.time()
    return TaskRecord(
        id=task_id,
        created=now,
        updated=now,
        prompt="p",
        repo="/r",
        ref=None,
        mode="code",
        environment="default",
        image="i",
        status=status,
        owner=owner,
    )


async def test_event_is_stored_before_any_subscriber_sees_it(tmp_path: Path) -> None:
    store = Store(tmp_path / "db.sqlite")
    bus = EventBus(store)
    subscription = bus.subscribe("t1")
    seen_in_store: list[bool] = []
    event = CommandStarted(task_id="t1", chunk_id="c1", command=["ls"], workdir="/", phase="agent")
    bus.emit(event)
    received = await asyncio.wait_for(subscription.queue.get(), 5)
    seen_in_store.append(any(e["type"] == "command.started" for e in store.events("t1")))
    assert received == event and seen_in_store == [True]
    assert event_from_dict(next(iter(store.events("t1")))) == event


def test_output_chunks_are_not_duplicated_into_the_database(tmp_path: Path) -> None:
    store = Store(tmp_path / "db.sqlite")
    EventBus(store).emit(OutputChunk(task_id="t1", chunk_id="c1", text="x" * 100))
    EventBus(store).emit(TaskStatusChanged(task_id="t1", status="running"))
    assert [e["type"] for e in store.events("t1")] == ["task.status"]


def test_reopening_keeps_everything(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite"
    store = Store(path)
    store.insert_task(record("abc", "ready", "1"))
    store.record_turn("abc", 1, {"input_tokens": 3, "output_tokens": 2, "cached_tokens": 0})
    store.close()
    again = Store(path)
    task = again.get_task("abc")
    assert task is not None and task.status == "ready"
    assert again.turns("abc")[0]["input_tokens"] == 3


def reopened(paths: Paths, *records: TaskRecord, leases: dict[str, float]) -> Engine:
    """An Engine opened on a store holding `records` and the owners' last heartbeats."""
    store = Store(paths.ensure().database)
    for owner, heartbeat in leases.items():
        store.renew_lease(owner, heartbeat)
    for task in records:
        store.insert_task(task)
    store.close()
    return Engine(paths, Config())


async def test_a_task_whose_owner_holds_a_live_lease_is_left_alone(tmp_path: Path) -> None:
    paths = Paths(config_dir=tmp_path / "config", state_dir=tmp_path / "state")
    engine = reopened(paths, record("live", "running", "other"), leases={"other": time.time()})
    assert await engine.resume_tasks() == []
    assert engine.task("live").status == "running" and engine.task("live").owner == "other"
    await engine.close()


async def test_a_task_whose_owner_lease_is_stale_is_taken_up(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "test-key")
    paths = Paths(config_dir=tmp_path / "config", state_dir=tmp_path / "state")
    stale = time.time() - LEASE_SECONDS - 1
    tasks = [record("dead", "running", "gone"), record("done", "ready", "gone")]
    engine = reopened(paths, *tasks, leases={"gone": stale})
    assert engine.task("dead").status == "running"
    assert await engine.resume_tasks() == ["dead"]
    dead = await engine.wait("dead")
    assert dead.status == "failed" and dead.error == "interrupted during setup: retry it"
    assert dead.owner != "gone"
    assert next(e["type"] for e in engine.store.events("dead")) == "task.resumed"
    assert engine.task("done").status == "ready"
    await engine.close()


async def test_two_engines_never_take_up_the_same_task(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "test-key")
    paths = Paths(config_dir=tmp_path / "config", state_dir=tmp_path / "state")
    first = reopened(paths, record("dead", "setup", "gone"), leases={})
    second = Engine(paths, Config())
    taken = [*await first.resume_tasks(), *await second.resume_tasks()]
    assert taken == ["dead"]
    assert (await first.wait("dead")).status == "failed"
    await first.close()
    await second.close()


async def test_a_reused_pid_cannot_keep_a_dead_task_alive(tmp_path: Path) -> None:
    paths = Paths(config_dir=tmp_path / "config", state_dir=tmp_path / "state")
    engine = reopened(paths, record("old", "running", str(os.getpid())), leases={})
    await engine.resume_tasks()
    await engine.wait("old")
    assert engine.task("old").status == "failed"
    await engine.close()


async def test_a_lease_is_renewed_while_its_engine_is_busy(tmp_path: Path) -> None:
    store = Store(tmp_path / "db.sqlite")
    checks: list[float] = []
    renewed_since_check: list[set[str]] = []
    idle = asyncio.Event()

    def busy() -> bool:
        if checks:
            renewed_since_check.append(store.owners_renewed_since(checks[-1]))
        checks.append(time.time())
        if len(checks) < 3:
            return True
        idle.set()
        return False

    lease = Lease(store, busy, interval=0.001)
    owner = lease.claim()
    await asyncio.wait_for(idle.wait(), 5)
    assert renewed_since_check == [{owner}, {owner}]
    await lease.release()
    assert store.owners_renewed_since(0) == set()
