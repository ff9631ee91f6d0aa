"""A task's tab: its header, then its live log and its result, one at a time (`t` switches);
for a best-of-N task also its attempts compared (`c`)."""

from __future__ import annotations

import time

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import TabbedContent, TabPane

from engine.api import Engine
from engine.diff.patchset import FileDiff
from engine.record.events import Event, FollowUpStarted, PullRequestChanged, TaskFinished
from engine.record.states import REVIEWABLE
from engine.record.views import TaskRecord
from tui.bridge import OutputPiece
from tui.widgets.attempts_panel import AttemptsPanel
from tui.widgets.result_panel import ResultPanel
from tui.widgets.task_header import TaskHeader
from tui.widgets.task_stream import TaskStream

LOG_PANE = "log"
RESULT_PANE = "result"
ATTEMPTS_PANE = "attempts"


class TaskView(Vertical):
    """One task, live. History is read from the engine when the tab opens; events older than
    that read are already in it and are skipped, and so is output before it."""

    def __init__(self, engine: Engine, record: TaskRecord, **kwargs: object) -> None:
        super().__init__(classes="task-view", **kwargs)  # type: ignore[arg-type]
        self.engine = engine
        self.record = record
        self.loaded_at: float | None = None
        self.attempt_count = len(engine.attempts(record.id))

    @property
    def task_id(self) -> str:
        return self.record.id

    @property
    def stream(self) -> TaskStream:
        return self.query_one(TaskStream)

    @property
    def result(self) -> ResultPanel:
        return self.query_one(ResultPanel)

    @property
    def panes(self) -> TabbedContent:
        return self.query_one(".task-panes", TabbedContent)

    @property
    def has_attempts(self) -> bool:
        """Whether the task is one of several attempts of its request."""
        return self.attempt_count > 1

    def compose(self) -> ComposeResult:
        initial = RESULT_PANE if self.record.status in REVIEWABLE else LOG_PANE
        yield TaskHeader(self.attempt_count, classes="task-header")
        with TabbedContent(initial=initial, classes="task-panes"):
            with TabPane("Log", id=LOG_PANE):
                yield TaskStream(self.task_id, classes="task-stream")
            with TabPane("Result", id=RESULT_PANE):
                yield ResultPanel(
                    self.read_output, self.read_file, self.read_files, classes="result-panel"
                )
            if self.has_attempts:
                with TabPane("Attempts", id=ATTEMPTS_PANE):
                    yield AttemptsPanel(self.task_id, classes="attempts-panel")

    def on_mount(self) -> None:
        self.loaded_at = time.time()
        self.record = self.engine.task(self.task_id)
        self.query_one(TaskHeader).show(self.record)
        self.result.show(self.record, self.engine.evidence(self.task_id))
        commands = self.engine.commands(self.task_id)
        events = self.engine.events(self.task_id, until=self.loaded_at)
        self.stream.load_history(self.record, events, commands, self.read_output)
        self.refresh_attempts()
        self.focus_pane()

    def refresh_attempts(self) -> None:
        """Rank the attempts again from their records (one of them changed)."""
        if self.has_attempts and self.loaded_at is not None:
            self.query_one(AttemptsPanel).show(self.engine.ranked_attempts(self.task_id))

    def show_attempts(self) -> None:
        self.panes.active = ATTEMPTS_PANE
        self.focus_pane()

    async def read_file(self, path: str) -> str | None:
        return await self.engine.read_file(self.task_id, path)

    async def read_files(self) -> list[FileDiff]:
        return await self.engine.result_files(self.task_id)

    def read_output(self, chunk_id: str) -> str:
        return self.engine.read_output(self.task_id, chunk_id).decode("utf-8", errors="replace")

    def apply_event(self, event: Event, record: TaskRecord) -> None:
        """An event of this task and the task's record after it."""
        if self.loaded_at is None or event.ts <= self.loaded_at:
            return
        self.record = record
        self.query_one(TaskHeader).show(record)
        self.stream.apply_event(event)
        if isinstance(event, TaskFinished | FollowUpStarted | PullRequestChanged):
            self.result.show(record, self.engine.evidence(self.task_id))

    def apply_output(self, pieces: list[OutputPiece]) -> None:
        if self.loaded_at is not None:
            self.stream.apply_output(pieces)

    @property
    def showing_result(self) -> bool:
        """Whether the result pane is shown (False until the panes are composed)."""
        panes = self.query(".task-panes")
        return bool(panes) and panes.first(TabbedContent).active == RESULT_PANE

    def toggle_result(self) -> None:
        self.panes.active = LOG_PANE if self.panes.active == RESULT_PANE else RESULT_PANE
        self.focus_pane()

    def focus_pane(self) -> None:
        """Keys go to the visible pane: the stream, or the result's citations."""
        if self.panes.active == LOG_PANE:
            self.stream.focus()
        elif self.panes.active == ATTEMPTS_PANE:
            self.query_one(AttemptsPanel).table.focus()
        else:
            self.result.focus_citations()
