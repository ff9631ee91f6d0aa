"""The bridge, through the service: output coalesced per task and frame, other events at once
and in order, each record-changing one with the record read after it."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path

from engine.record.bus import EventBus
from engine.service.client import ServiceClient
from engine.views.events import CommandFinished, CommandStarted, OutputChunk, TaskStatusChanged
from tests.support.board import store_task, stored_engine
from tests.support.service import client_of, served
from tui.bridge import EngineEvent, EventBridge, OutputBatch, ServiceLost


def started(task_id: str, chunk_id: str) -> CommandStarted:
    return CommandStarted(
        task_id=task_id, chunk_id=chunk_id, command=["ls"], workdir="/", phase="agent"
    )


def finished(task_id: str, chunk_id: str) -> CommandFinished:
    return CommandFinished(
        task_id=task_id,
        chunk_id=chunk_id,
        command=["ls"],
        exit_code=0,
        timed_out=False,
        duration=0.1,
        output_lines=1,
        output_bytes=2,
    )


async def run_bridge(
    tmp_path: Path,
    emit_all: Callable[[EventBus], None],
    done: Callable[[list[object]], bool] = lambda _: True,
) -> list[object]:
    """What a bridge on a client of a served engine posts for the events `emit_all` emits,
    once `done` says all has arrived (or after half a second, and at most 30)."""
    engine = stored_engine(tmp_path / "home")
    store_task(engine, "t1", status="running")
    posted: list[object] = []
    async with client_of(engine) as client:
        subscription = await client.subscribe()
        bridge = EventBridge(subscription, client.task, posted.append, interval=0.05)
        worker = asyncio.create_task(bridge.run())
        emit_all(engine.bus)
        await asyncio.sleep(0.5)
        deadline = time.monotonic() + 30
        while not done(posted) and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        worker.cancel()
        await asyncio.gather(worker, return_exceptions=True)
    return posted


async def test_thousands_of_output_lines_become_one_batch_per_task(tmp_path: Path) -> None:
    def emit_all(bus: EventBus) -> None:
        for task_id in ("t1", "t2"):
            bus.emit(started(task_id, "c1"))
        offset = 0
        for line in range(5000):
            text = f"line {line}\n"
            for task_id in ("t1", "t2"):
                bus.emit(OutputChunk(task_id=task_id, chunk_id="c1", text=text, offset=offset))
            offset += len(text)

    def texts(posted: list[object]) -> dict[str, str]:
        gathered = {"t1": "", "t2": ""}
        for batch in posted:
            if isinstance(batch, OutputBatch):
                for piece in batch.pieces:
                    assert piece.offset == len(gathered[batch.task_id])
                    gathered[batch.task_id] += piece.text
        return gathered

    def all_arrived(posted: list[object]) -> bool:
        return all(text.count("\n") == 5000 for text in texts(posted).values())

    posted = await run_bridge(tmp_path, emit_all, all_arrived)
    expected = "".join(f"line {line}\n" for line in range(5000))
    assert texts(posted) == {"t1": expected, "t2": expected}
    batches = [message for message in posted if isinstance(message, OutputBatch)]
    assert {batch.task_id for batch in batches} == {"t1", "t2"}
    assert len(batches) <= 20, "10,000 chunks arrive in a few frames' batches, not one by one"
    assert all(len(batch.pieces) == 1 for batch in batches)


async def test_events_come_after_the_output_before_them_with_offsets(tmp_path: Path) -> None:
    def emit_all(bus: EventBus) -> None:
        bus.emit(started("t1", "c1"))
        bus.emit(OutputChunk(task_id="t1", chunk_id="c1", text="ab", offset=5))
        bus.emit(OutputChunk(task_id="t1", chunk_id="c1", text="cd", offset=7))
        bus.emit(finished("t1", "c1"))
        bus.emit(started("t1", "c2"))
        bus.emit(OutputChunk(task_id="t1", chunk_id="c2", text="xy"))
        bus.emit(TaskStatusChanged(task_id="t1", status="ready"))

    posted = await run_bridge(tmp_path, emit_all)
    kinds = [
        message.event.type if isinstance(message, EngineEvent) else "output" for message in posted
    ]
    assert kinds == [
        "command.started",
        "output",
        "command.finished",
        "command.started",
        "output",
        "task.status",
    ]
    outputs = [message for message in posted if isinstance(message, OutputBatch)]
    assert [(p.chunk_id, p.offset, p.text) for p in outputs[0].pieces] == [("c1", 5, "abcd")]
    assert [(p.chunk_id, p.offset, p.text) for p in outputs[1].pieces] == [("c2", 0, "xy")]
    records = [message.record for message in posted if isinstance(message, EngineEvent)]
    first_seen, *unchanged, status = records
    assert first_seen is not None and status is not None and status.id == "t1"
    assert unchanged == [None, None]


async def test_the_service_going_away_is_one_message_not_an_error(tmp_path: Path) -> None:
    engine = stored_engine(tmp_path / "home")
    posted: list[object] = []
    async with served(engine) as service:
        client = await ServiceClient.open(engine.paths, "test")
        bridge = EventBridge(await client.subscribe(), client.task, posted.append)
        worker = asyncio.create_task(bridge.run())
        service.stop()
        await asyncio.wait_for(worker, timeout=10)
        await client.close()
    [lost] = posted
    assert isinstance(lost, ServiceLost) and "closed the connection" in lost.reason
