"""Engines wired to real Docker and a scripted model server, for integration tests."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from engine.api import Engine, TaskRequest
from engine.config import Config
from engine.models import make_model_client
from engine.models.base import ModelSettings
from engine.paths import Paths
from engine.views.events import Event
from engine.views.task import TaskRecord
from tests.support.model_server import ScriptedModelServer


def scripted_engine(
    home: Path, server: ScriptedModelServer, wire_api: str = "chat", **config: Any
) -> Engine:
    """An Engine on the real Docker backend whose model is the scripted server."""
    return engine_at(home, server.base_url, wire_api, **config)


def engine_at(home: Path, base_url: str, wire_api: str = "chat", **config: Any) -> Engine:
    """An Engine on the real Docker backend whose model is the server at base_url."""
    settings = ModelSettings(
        model="scripted-codex",
        wire_api=wire_api,  # type: ignore[arg-type]
        api_key="test-key",
        base_url=base_url,
        max_retries=1,
        stream_idle_timeout=10.0,
    )
    paths = Paths(config_dir=home / "config", state_dir=home / "state")
    return Engine(paths, Config.model_validate(config), model=make_model_client(settings))


async def run_to_end(engine: Engine, request: TaskRequest) -> tuple[TaskRecord, list[Event]]:
    """Submit a task, collect its events until task.finished, return the record and events."""
    subscription = engine.subscribe()
    record = await engine.submit(request)
    events: list[Event] = []
    async for event in subscription:
        if event.task_id != record.id:
            continue
        events.append(event)
        if event.type == "task.finished":
            break
    subscription.close()
    return await engine.wait(record.id), events


def of_type(events: Iterable[Event], type_name: str) -> list[Any]:
    return [event for event in events if event.type == type_name]
