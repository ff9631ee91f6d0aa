"""The board application: one engine, one subscription, the board screen and its dialogs."""

from __future__ import annotations

import gc
import time
from collections.abc import Callable, Iterable, Sequence
from functools import partial
from pathlib import Path

from textual import on
from textual.app import App, SystemCommand
from textual.filter import LineFilter
from textual.screen import Screen

from engine.api import Engine
from engine.record.events import TaskFinished
from engine.record.states import TaskStatus
from engine.record.views import TaskRecord
from engine.requests import TaskRequest
from tui.bridge import EngineEvent, EventBridge, OutputBatch
from tui.control_filter import ControlCharacterFilter
from tui.present import plain
from tui.screens.board import BoardScreen
from tui.screens.board_keys import ACTIONS
from tui.themes import register_themes
from tui.widgets.task_row import task_title

FULL_COLLECTION_EVERY = 1000
"""Middle-generation collections between two full ones (Python's default is 10)."""

ATTENTION = {
    TaskStatus.READY: ("information", "ready for review"),
    TaskStatus.FAILED: ("error", "failed"),
    TaskStatus.CANCELLED: ("warning", "cancelled"),
}


def quiet_garbage_collector() -> None:
    """Keep full collections rare: with many task views each one stalls the loop for ~200 ms."""
    gc.freeze()
    youngest, middle, _ = gc.get_threshold()
    gc.set_threshold(youngest, middle, FULL_COLLECTION_EVERY)


class TaskyardApp(App[None]):
    """The full-screen board over one engine, for the repository at `repo`."""

    CSS_PATH = "styles/app.tcss"
    TITLE = "taskyard"

    def __init__(self, engine: Engine, repo: Path, clock: Callable[[], float] = time.time) -> None:
        super().__init__()
        self.engine = engine
        self.repo = repo
        self.clock = clock
        self.keymap = dict(engine.config.keymap)
        self.board = BoardScreen()
        self.control_filter = ControlCharacterFilter()

    async def on_mount(self) -> None:
        quiet_garbage_collector()
        self.set_keymap(self.keymap)
        self.apply_themes()
        await self.push_screen(self.board)
        bridge = EventBridge(self.engine.subscribe(), self.post_message)
        self.run_worker(bridge.run(), name="engine-events", group="bridge")

    def get_line_filters(self) -> Sequence[LineFilter]:
        """Textual's filters, then the backstop that keeps control characters off the screen."""
        return [*super().get_line_filters(), self.control_filter]

    def apply_themes(self) -> None:
        """Register the bundled and the user's themes; use the configured one."""
        for problem in register_themes(self, self.engine.paths.config_dir):
            self.notify(problem, title="Theme not loaded", severity="error", markup=False)
        name = self.engine.config.theme
        if name in self.available_themes:
            self.theme = name
        else:
            known = ", ".join(sorted(self.available_themes))
            self.notify(
                f"theme {name!r} is not known: use one of {known}",
                severity="error",
                markup=False,
            )

    async def start_task(self, request: TaskRequest) -> TaskRecord:
        """Check what the task needs, then submit it."""
        await self.engine.preflight(request)
        return await self.engine.submit(request)

    @on(EngineEvent)
    def engine_event(self, message: EngineEvent) -> None:
        self.board.apply_event(message.event)
        if isinstance(message.event, TaskFinished):
            self.call_attention(message.event)

    @on(OutputBatch)
    def output_batch(self, batch: OutputBatch) -> None:
        self.board.apply_output(batch)

    def call_attention(self, finished: TaskFinished) -> None:
        """A notification and the terminal bell for a task that ended."""
        severity, outcome = ATTENTION.get(finished.status, ("information", finished.status))
        title = task_title(self.engine.task(finished.task_id).prompt)
        detail = (
            f"\n{plain(finished.error)}"
            if finished.error and finished.status == TaskStatus.FAILED
            else ""
        )
        self.notify(
            f"{title}{detail}",
            title=f"Task {finished.task_id} {outcome}",
            severity=severity,  # type: ignore[arg-type]
            markup=False,
        )
        self.bell()

    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        for command in super().get_system_commands(screen):
            if command.title != "Quit":
                yield command
        for binding in ACTIONS:
            yield SystemCommand(
                binding.description,
                binding.tooltip,
                partial(self.run_action, binding.action, self.board),
            )


async def run_board(engine: Engine, repo: Path) -> int:
    """Take up the tasks a stopped taskyard process left, then run the board until the person
    quits; returns the exit code."""
    await engine.resume_tasks()
    app = TaskyardApp(engine, repo)
    await app.run_async()
    return app.return_code or 0
