"""Engine events to Textual messages: task events as they come, command output in batches.

Output is coalesced per task and posted at most once per frame interval, so a command that
prints thousands of lines a second costs the board one message per frame, never one per line.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass

from textual.message import Message

from engine.record.bus import Subscription
from engine.record.events import CommandFinished, Event, OutputChunk

FRAME_SECONDS = 1 / 30


class EngineEvent(Message):
    """One engine event other than command output."""

    def __init__(self, event: Event) -> None:
        super().__init__()
        self.event = event


@dataclass(frozen=True)
class OutputPiece:
    """Output of one command; `offset` is where `text` starts in that command's output."""

    chunk_id: str
    offset: int
    text: str


class OutputBatch(Message):
    """Command output of one task gathered over one frame interval, in order."""

    def __init__(self, task_id: str, pieces: list[OutputPiece]) -> None:
        super().__init__()
        self.task_id = task_id
        self.pieces = pieces


@dataclass
class _PendingRun:
    chunk_id: str
    offset: int
    texts: list[str]


class EventBridge:
    """Reads a subscription and posts EngineEvent and OutputBatch messages."""

    def __init__(
        self,
        subscription: Subscription,
        post: Callable[[Message], object],
        interval: float = FRAME_SECONDS,
    ) -> None:
        self._subscription = subscription
        self._post = post
        self._interval = interval
        self._pending: dict[str, list[_PendingRun]] = {}
        self._offsets: dict[tuple[str, str], int] = {}
        self._flush_handle: asyncio.TimerHandle | None = None

    async def run(self) -> None:
        """Post messages for every event until cancelled; then close the subscription."""
        try:
            async for event in self._subscription:
                self.take(event)
        finally:
            self._subscription.close()
            if self._flush_handle is not None:
                self._flush_handle.cancel()

    def take(self, event: Event) -> None:
        """Buffer output; post anything else at once, after the output that came before it."""
        if isinstance(event, OutputChunk):
            self._buffer(event)
            return
        self._flush_task(event.task_id)
        if isinstance(event, CommandFinished):
            self._offsets.pop((event.task_id, event.chunk_id), None)
        self._post(EngineEvent(event))

    def _buffer(self, chunk: OutputChunk) -> None:
        key = (chunk.task_id, chunk.chunk_id)
        offset = self._offsets.get(key, 0)
        self._offsets[key] = offset + len(chunk.text)
        runs = self._pending.setdefault(chunk.task_id, [])
        if runs and runs[-1].chunk_id == chunk.chunk_id:
            runs[-1].texts.append(chunk.text)
        else:
            runs.append(_PendingRun(chunk.chunk_id, offset, [chunk.text]))
        if self._flush_handle is None:
            loop = asyncio.get_running_loop()
            self._flush_handle = loop.call_later(self._interval, self.flush)

    def flush(self) -> None:
        """Post one OutputBatch per task with buffered output."""
        self._flush_handle = None
        for task_id in list(self._pending):
            self._flush_task(task_id)

    def _flush_task(self, task_id: str) -> None:
        runs = self._pending.pop(task_id, None)
        if runs:
            pieces = [OutputPiece(run.chunk_id, run.offset, "".join(run.texts)) for run in runs]
            self._post(OutputBatch(task_id, pieces))
