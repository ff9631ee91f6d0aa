"""A task's tab: its header, then its live log and its result, one at a time (`t` switches);
for a best-of-N task also its attempts compared (`c`)."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import TabbedContent, TabPane

from engine.errors import EngineError
from engine.service.client import ServiceClient
from engine.views import REVIEWABLE, CommandRecord, Evidence, FileDiff, RankedAttempt, TaskRecord
from engine.views.events import Event, FollowUpStarted, PullRequestChanged, TaskFinished
from tui.bridge import OutputPiece
from tui.widgets.attempts_panel import AttemptsPanel
from tui.widgets.result_panel import ResultPanel
from tui.widgets.task_header import TaskHeader
from tui.widgets.task_stream import TaskStream

LOG_PANE = "log"
RESULT_PANE = "result"
ATTEMPTS_PANE = "attempts"

Arrival = tuple[Event, TaskRecord | None] | list[OutputPiece]
"""An event with the record read after it, or a batch of output: what reached a tab's task
while its history was read."""


@dataclass(frozen=True)
class TaskHistory:
    """A task's loop as recorded up to `loaded_at`, read from the service when its tab opens."""

    record: TaskRecord
    attempts: int
    evidence: Evidence
    commands: list[CommandRecord]
    events: list[Event]
    outputs: dict[str, str]
    loaded_at: float


async def read_history(client: ServiceClient, task_id: str) -> TaskHistory:
    """Everything recorded of the task so far: events up to now, each command's output."""
    loaded_at = time.time()
    record = await client.task(task_id)
    attempts, evidence, commands, events = await asyncio.gather(
        client.attempts(record.id),
        client.evidence(record.id),
        client.commands(record.id),
        client.events(record.id, until=loaded_at),
    )
    logs = await asyncio.gather(*(client.read_output(record.id, c.chunk_id) for c in commands))
    outputs = {
        command.chunk_id: log.decode("utf-8", errors="replace")
        for command, log in zip(commands, logs, strict=True)
    }
    return TaskHistory(record, len(attempts), evidence, commands, events, outputs, loaded_at)


class ResultRead(Message):
    """The task's record and the evidence behind it, read again after its result changed."""

    def __init__(self, record: TaskRecord, evidence: Evidence) -> None:
        super().__init__()
        self.record = record
        self.evidence = evidence


class AttemptsRanked(Message):
    """The attempts of the task's request, ranked again."""

    def __init__(self, ranked: list[RankedAttempt]) -> None:
        super().__init__()
        self.ranked = ranked


class TaskView(Vertical):
    """One task, live. History is read from the service before the tab opens; events older
    than that read are already in it and are skipped, and so is output it holds."""

    def __init__(
        self,
        client: ServiceClient,
        history: TaskHistory,
        arrived: list[Arrival] | None = None,
        **kwargs: object,
    ) -> None:
        super().__init__(classes="task-view", **kwargs)  # type: ignore[arg-type]
        self.client = client
        self.history = history
        self.record = history.record
        self.loaded_at: float | None = None
        self.attempt_count = history.attempts
        self.arrived: list[Arrival] = list(arrived or [])
        self.header = TaskHeader(self.attempt_count, classes="task-header")
        self.stream = TaskStream(self.task_id, classes="task-stream")
        self.result = ResultPanel(
            self.read_output, self.read_file, self.read_files, classes="result-panel"
        )
        self.panes = TabbedContent(
            initial=RESULT_PANE if self.record.status in REVIEWABLE else LOG_PANE,
            classes="task-panes",
        )

    @property
    def task_id(self) -> str:
        return self.record.id

    @property
    def has_attempts(self) -> bool:
        """Whether the task is one of several attempts of its request."""
        return self.attempt_count > 1

    def compose(self) -> ComposeResult:
        """The header and the panes, kept as attributes: a query from here would walk every
        block of the stream."""
        yield self.header
        with self.panes:
            with TabPane("Log", id=LOG_PANE):
                yield self.stream
            with TabPane("Result", id=RESULT_PANE):
                yield self.result
            if self.has_attempts:
                with TabPane("Attempts", id=ATTEMPTS_PANE):
                    yield AttemptsPanel(self.task_id, classes="attempts-panel")

    def on_mount(self) -> None:
        history = self.history
        self.header.show(self.record)
        self.result.show(self.record, history.evidence)
        self.stream.load_history(self.record, history.events, history.commands, history.outputs)
        self.loaded_at = history.loaded_at
        for arrival in self.arrived:
            if isinstance(arrival, tuple):
                self.apply_event(*arrival)
            else:
                self.apply_output(arrival)
        self.arrived.clear()
        self.refresh_attempts()
        self.focus_pane()

    def refresh_attempts(self) -> None:
        """Rank the attempts again from their records (one of them changed)."""
        if self.has_attempts and self.loaded_at is not None:
            self.run_worker(self.rank_attempts(), group="attempts", exclusive=True)

    async def rank_attempts(self) -> None:
        try:
            ranked = await self.client.ranked_attempts(self.task_id)
        except EngineError as error:
            self.notify(str(error), severity="error", markup=False)
            return
        self.post_message(AttemptsRanked(ranked))

    @on(AttemptsRanked)
    def attempts_ranked(self, ranked: AttemptsRanked) -> None:
        self.query_one(AttemptsPanel).show(ranked.ranked)

    def show_attempts(self) -> None:
        self.panes.active = ATTEMPTS_PANE
        self.focus_pane()

    async def read_file(self, path: str) -> str | None:
        return await self.client.read_file(self.task_id, path)

    async def read_files(self) -> list[FileDiff]:
        return await self.client.result_files(self.task_id)

    async def read_output(self, chunk_id: str) -> str:
        output = await self.client.read_output(self.task_id, chunk_id)
        return output.decode("utf-8", errors="replace")

    def apply_event(self, event: Event, record: TaskRecord | None) -> None:
        """An event of this task and the task's record after it (None: unchanged)."""
        if self.loaded_at is None:
            self.arrived.append((event, record))
            return
        if event.ts <= self.loaded_at:
            return
        self.record = record or self.record
        self.header.show(self.record)
        self.stream.apply_event(event)
        if isinstance(event, TaskFinished | FollowUpStarted | PullRequestChanged):
            self.run_worker(self.read_result(), group="result", exclusive=True)

    async def read_result(self) -> None:
        """Read the record and its evidence again, for the result pane."""
        try:
            record = await self.client.task(self.task_id)
            evidence = await self.client.evidence(self.task_id)
        except EngineError as error:
            self.notify(str(error), severity="error", markup=False)
            return
        self.post_message(ResultRead(record, evidence))

    @on(ResultRead)
    def result_read(self, read: ResultRead) -> None:
        self.result.show(read.record, read.evidence)

    def apply_output(self, pieces: list[OutputPiece]) -> None:
        if self.loaded_at is None:
            self.arrived.append(pieces)
            return
        self.stream.apply_output(pieces)

    @property
    def showing_result(self) -> bool:
        """Whether the result pane is shown (False until the panes are composed)."""
        return self.panes.is_mounted and self.panes.active == RESULT_PANE

    def toggle_result(self) -> None:
        self.panes.active = LOG_PANE if self.panes.active == RESULT_PANE else RESULT_PANE
        self.focus_pane()

    def focus_pane(self) -> None:
        """Keys go to the visible pane: the stream, or the result's answer and diff."""
        if self.panes.active == LOG_PANE:
            self.stream.focus()
        elif self.panes.active == ATTEMPTS_PANE:
            self.query_one(AttemptsPanel).table.focus()
        else:
            self.result.focus_answer()
