"""The store records before it publishes, and keeps what a dead process left behind."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from engine.api import Engine
from engine.bus import EventBus
from engine.config import Config
from engine.events import CommandStarted, OutputChunk, TaskStatusChanged, event_from_dict
from engine.paths import Paths
from engine.store import Store, TaskRecord


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


def test_tasks_of_a_dead_process_are_marked_interrupted(tmp_path: Path) -> None:
    paths = Paths(config_dir=tmp_path / "config", state_dir=tmp_path / "state").ensure()
    store = Store(paths.database)
    store.insert_task(record("dead", "running", "999999999"))
    store.insert_task(record("done", "ready", "999999999"))
    store.close()
    engine = Engine(paths, Config())
    dead = engine.task("dead")
    assert dead.status == "failed" and "interrupted" in dead.error
    assert engine.task("done").status == "ready"
    asyncio.run(engine.close())
