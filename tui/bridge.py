"""Service events to Textual messages: task events as they come, command output in batches.

Output is coalesced per task and posted at most once per frame interval, so a command that
prints thousands of lines a second costs the board one message per frame, never one per line.
An event that changes a task's record, or the first of a task not seen yet, comes with the
record read after it, so the board's handlers never wait on the service.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterable, Awaitable, Callable, Iterable
from dataclasses import dataclass

from textual.message import Message

from engine.errors import EngineError
from engine.service.client import ServiceError
from engine.views import TaskRecord
from engine.views.events import (
    Event,
    FollowUpStarted,
    OutputChunk,
    PullRequestChanged,
    TaskArchived,
    TaskFinished,
    TaskQueued,
    TaskStatusChanged,
)

FRAME_SECONDS = 1 / 30
RECORD_EVENTS = (
    TaskQueued,
    TaskStatusChanged,
    FollowUpStarted,
    TaskFinished,
    PullRequestChanged,
    TaskArchived,
)
"""Events after which the task's record is read again."""

ReadRecord = Callable[[str], Awaitable[TaskRecord]]


class EngineEvent(Message):
    """One engine event other than command output, with the task's record when it was read."""

    def __init__(self, event: Event, record: TaskRecord | None = None) -> None:
        super().__init__()
        self.event = event
        self.record = record


class ServiceLost(Message):
    """The connection to the service ended; `reason` says how."""

    def __init__(self, reason: str) -> None:
        super().__init__()
        self.reason = reason


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
    """Reads a subscription and posts EngineEvent and OutputBatch messages; ServiceLost when
    the service goes away."""

    def __init__(
        self,
        subscription: AsyncIterable[Event],
        read_record: ReadRecord,
        post: Callable[[Message], object],
        known: Iterable[str] = (),
        interval: float = FRAME_SECONDS,
    ) -> None:
        self._subscription = subscription
        self._read_record = read_record
        self._post = post
        self._known = set(known)
        self._interval = interval
        self._pending: dict[str, list[_PendingRun]] = {}
        self._flush_handle: asyncio.TimerHandle | None = None

    async def run(self) -> None:
        """Post messages for every event until cancelled or the service goes away."""
        try:
            async for event in self._subscription:
                await self.take(event)
        except ServiceError as error:
            self.flush()
            self._post(ServiceLost(str(error)))
        finally:
            if self._flush_handle is not None:
                self._flush_handle.cancel()

    async def take(self, event: Event) -> None:
        """Buffer output; post anything else at once, after the output that came before it."""
        if isinstance(event, OutputChunk):
            self._buffer(event)
            return
        self._flush_task(event.task_id)
        self._post(EngineEvent(event, await self._record_after(event)))

    async def _record_after(self, event: Event) -> TaskRecord | None:
        if not isinstance(event, RECORD_EVENTS) and event.task_id in self._known:
            return None
        try:
            record = await self._read_record(event.task_id)
        except ServiceError:
            raise
        except EngineError:
            return None
        self._known.add(record.id)
        return record

    def _buffer(self, chunk: OutputChunk) -> None:
        runs = self._pending.setdefault(chunk.task_id, [])
        last = runs[-1] if runs else None
        if last is not None and last.chunk_id == chunk.chunk_id:
            last.texts.append(chunk.text)
        else:
            runs.append(_PendingRun(chunk.chunk_id, chunk.offset, [chunk.text]))
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
