"""The bridge: output coalesced per task and frame, other events at once and in order."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

from engine.record.bus import EventBus
from engine.record.events import CommandFinished, CommandStarted, OutputChunk, TaskStatusChanged
from engine.record.store import Store
from tui.bridge import EngineEvent, EventBridge, OutputBatch


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


async def run_bridge(tmp_path: Path, emit_all: Callable[[EventBus], None]) -> list[object]:
    bus = EventBus(Store(tmp_path / "db.sqlite"))
    posted: list[object] = []
    bridge = EventBridge(bus.subscribe(), posted.append, interval=0.05)
    worker = asyncio.create_task(bridge.run())
    await asyncio.sleep(0)
    emit_all(bus)
    await asyncio.sleep(0.2)
    worker.cancel()
    await asyncio.gather(worker, return_exceptions=True)
    return posted


async def test_thousands_of_output_lines_become_one_batch_per_task(tmp_path: Path) -> None:
    def emit_all(bus: EventBus) -> None:
        for task_id in ("t1", "t2"):
            bus.emit(started(task_id, "c1"))
        for line in range(5000):
            for task_id in ("t1", "t2"):
                bus.emit(OutputChunk(task_id=task_id, chunk_id="c1", text=f"line {line}\n"))

    posted = await run_bridge(tmp_path, emit_all)
    batches = [message for message in posted if isinstance(message, OutputBatch)]
    assert sorted(batch.task_id for batch in batches) == ["t1", "t2"]
    for batch in batches:
        (piece,) = batch.pieces
        assert piece.offset == 0 and piece.text.count("\n") == 5000
        assert piece.text.endswith("line 4999\n")


async def test_events_come_after_the_output_before_them_with_offsets(tmp_path: Path) -> None:
    def emit_all(bus: EventBus) -> None:
        bus.emit(started("t1", "c1"))
        bus.emit(OutputChunk(task_id="t1", chunk_id="c1", text="ab"))
        bus.emit(OutputChunk(task_id="t1", chunk_id="c1", text="cd"))
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
    assert [(p.chunk_id, p.offset, p.text) for p in outputs[0].pieces] == [("c1", 0, "abcd")]
    assert [(p.chunk_id, p.offset, p.text) for p in outputs[1].pieces] == [("c2", 0, "xy")]
