"""One owner of task status: the lifecycle checks, writes and announces every transition."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from engine.api import Engine
from engine.config import Config
from engine.delivery.deliver import record_delivery
from engine.errors import EngineError
from engine.paths import Paths
from engine.record.bus import EventBus
from engine.record.lifecycle import TaskLifecycle
from engine.record.store import Store
from engine.views.accept import Delivery
from engine.views.events import Event, TaskStatusChanged, event_from_dict
from engine.views.task import InvalidTransition, TaskStatus
from tests.support.board import stored_engine
from tests.support.delivery import store_ready_task
from tests.support.repos import make_calc_repo
from tests.test_store import record

ROOT = Path(__file__).resolve().parent.parent
STATUS_WRITE = re.compile(r"\.write_status\(")


def store_with(tmp_path: Path, status: str) -> tuple[Store, EventBus]:
    store = Store(tmp_path / "db.sqlite")
    store.insert_task(record("t1", status, "1"))
    return store, EventBus(store)


def stored_changes(store: Store, task_id: str) -> list[Event]:
    events = (event_from_dict(data) for data in store.events(task_id))
    return [event for event in events if isinstance(event, TaskStatusChanged)]


def test_an_allowed_transition_is_written_then_announced(tmp_path: Path) -> None:
    store, bus = store_with(tmp_path, "running")
    subscription = bus.subscribe("t1")
    TaskLifecycle(store, bus).move("t1", TaskStatus.READY, "done")
    task = store.get_task("t1")
    assert task is not None and task.status is TaskStatus.READY
    announced = subscription.queue.get_nowait()
    assert announced == TaskStatusChanged(
        task_id="t1", ts=announced.ts, status=TaskStatus.READY, detail="done"
    )
    assert stored_changes(store, "t1") == [announced]


def test_a_refused_transition_raises_and_changes_nothing(tmp_path: Path) -> None:
    store, bus = store_with(tmp_path, "queued")
    with pytest.raises(InvalidTransition, match="from queued to accepted") as refused:
        TaskLifecycle(store, bus).move("t1", TaskStatus.ACCEPTED)
    assert isinstance(refused.value, EngineError) and "taskyard show" in str(refused.value)
    task = store.get_task("t1")
    assert task is not None and task.status is TaskStatus.QUEUED
    assert stored_changes(store, "t1") == []


def test_a_status_changed_meanwhile_is_not_overwritten(tmp_path: Path) -> None:
    store, _ = store_with(tmp_path, "running")
    assert not store.write_status("t1", TaskStatus.READY, TaskStatus.ACCEPTED)
    task = store.get_task("t1")
    assert task is not None and task.status is TaskStatus.RUNNING


def test_update_task_refuses_a_status(tmp_path: Path) -> None:
    store, _ = store_with(tmp_path, "ready")
    with pytest.raises(ValueError, match="status"):
        store.update_task("t1", status="accepted")


def test_only_the_lifecycle_writes_a_status() -> None:
    writers = [
        path.relative_to(ROOT).as_posix()
        for folder in ("engine", "tui", "sandboxes")
        for path in sorted((ROOT / folder).rglob("*.py"))
        if STATUS_WRITE.search(path.read_text(encoding="utf-8"))
    ]
    assert writers == ["engine/record/lifecycle.py"]


async def test_accepting_announces_accepted(tmp_path: Path) -> None:
    engine = stored_engine(tmp_path / "home")
    store_ready_task(engine, make_calc_repo(tmp_path / "calc"), "aaaa0001")
    subscription = engine.subscribe("aaaa0001")
    await engine.accept("aaaa0001")
    assert engine.task("aaaa0001").status is TaskStatus.ACCEPTED
    changed = subscription.queue.get_nowait()
    assert isinstance(changed, TaskStatusChanged) and changed.status is TaskStatus.ACCEPTED
    await engine.close()


async def test_an_opened_pull_request_announces_pr_opened(tmp_path: Path) -> None:
    engine = stored_engine(tmp_path / "home")
    store_ready_task(engine, make_calc_repo(tmp_path / "calc"), "aaaa0001")
    subscription = engine.subscribe("aaaa0001")
    delivery = Delivery("opened", "taskyard/aaaa0001", "origin", "f" * 40, "github", "u", 7)
    record_delivery(engine.store, engine.bus, "aaaa0001", delivery)
    assert engine.task("aaaa0001").status is TaskStatus.PR_OPENED
    events = [subscription.queue.get_nowait() for _ in range(2)]
    assert [event.type for event in events] == ["task.pull_request", "task.status"]
    assert stored_changes(engine.store, "aaaa0001") == [events[1]]
    await engine.close()


async def test_a_task_interrupted_in_setup_is_failed_through_the_lifecycle(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "test-key")
    paths = Paths(config_dir=tmp_path / "config", state_dir=tmp_path / "state").ensure()
    store = Store(paths.database)
    store.insert_task(record("dead", "setup", "999999999"))
    store.close()
    engine = Engine(paths, Config())
    await engine.resume_tasks()
    dead = await engine.wait("dead")
    assert dead.status is TaskStatus.FAILED and dead.error == "interrupted during setup: retry it"
    [changed] = stored_changes(engine.store, "dead")
    assert isinstance(changed, TaskStatusChanged)
    assert changed.status is TaskStatus.FAILED and changed.detail == dead.error
    await engine.close()
