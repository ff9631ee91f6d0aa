"""The board application: a client of the service, one subscription to every task's events,
the board screen and its dialogs. Quitting closes the connection; the tasks go on."""

from __future__ import annotations

import contextlib
import gc
import os
import time
from collections.abc import Callable, Iterable, Sequence
from contextlib import AbstractAsyncContextManager
from functools import partial
from pathlib import Path

from textual import on
from textual.app import App, SystemCommand
from textual.filter import LineFilter
from textual.screen import Screen

from engine.config import DEMO_MODEL, Config, ConfigError, load_config
from engine.errors import EngineError
from engine.paths import Paths, default_paths
from engine.service.client import ServiceClient
from engine.views import TaskRecord, TaskRequest, TaskStatus
from engine.views.events import TaskFinished
from tui.bridge import EngineEvent, EventBridge, OutputBatch, ServiceLost
from tui.commands.common import environment_note, fail
from tui.control_filter import ControlCharacterFilter
from tui.demo import WELCOME
from tui.present import plain
from tui.screens.board import BoardScreen
from tui.screens.board_keys import ACTIONS
from tui.themes import register_themes
from tui.widgets.task_row import task_title

ANIMATIONS_VARIABLE = "TEXTUAL_ANIMATIONS"
"""Textual's setting for animations; unset, the board has none: a tab switch slid its
underline over a dozen frames, each a render of most of the screen."""

FULL_COLLECTION_EVERY = 1000
"""Middle-generation collections between two full ones (Python's default is 10)."""

ATTENTION = {
    TaskStatus.READY: ("information", "ready for review"),
    TaskStatus.FAILED: ("error", "failed"),
    TaskStatus.CANCELLED: ("warning", "cancelled"),
}


Connect = Callable[[], AbstractAsyncContextManager[ServiceClient]]
"""Opens the board's connection to the service for the life of the app."""


def service_lost_notice(reason: str) -> str:
    return (
        f"The taskyard service went away ({plain(reason)}). Tasks it was running go on in "
        "their containers. Press q, then run taskyard again to reopen the board: it starts "
        "the service again."
    )


def quiet_garbage_collector() -> None:
    """Keep full collections rare: with many task views each one stalls the loop for ~200 ms."""
    gc.freeze()
    youngest, middle, _ = gc.get_threshold()
    gc.set_threshold(youngest, middle, FULL_COLLECTION_EVERY)


class TaskyardApp(App[None]):
    """The full-screen board over the service, for the repository at `repo`."""

    CSS_PATH = "styles/app.tcss"
    TITLE = "taskyard"

    def __init__(
        self,
        connect: Connect,
        config: Config,
        config_dir: Path,
        repo: Path,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__()
        if ANIMATIONS_VARIABLE not in os.environ:
            self.animation_level = "none"
        self.connect = connect
        self.config = config
        self.config_dir = config_dir
        self.repo = repo
        self.clock = clock
        self.keymap = dict(config.keymap)
        self.demo = config.model == DEMO_MODEL
        """Whether the board shows `taskyard demo`: its service runs the offline demo model."""
        self.board = BoardScreen()
        self.control_filter = ControlCharacterFilter()
        self.connection = contextlib.AsyncExitStack()
        self._client: ServiceClient | None = None

    @property
    def client(self) -> ServiceClient:
        """The connection to the service (open once the app is mounted)."""
        assert self._client is not None, "the board is not connected yet"
        return self._client

    async def on_mount(self) -> None:
        quiet_garbage_collector()
        self.set_keymap(self.keymap)
        self.apply_themes()
        self._client = await self.connection.enter_async_context(self.connect())
        if note := environment_note(self.client.environment_differs):
            self.notify(note, title="Service environment", severity="warning", markup=False)
        subscription = await self.client.subscribe()
        self.board.load(
            await self.client.tasks(include_archived=True), await self.client.host_states()
        )
        await self.push_screen(self.board)
        if self.demo:
            self.notify(WELCOME, title="taskyard demo", timeout=15, markup=False)
        known = self.board.table.rows_by_id
        bridge = EventBridge(subscription, self.client.task, self.post_message, known)
        self.run_worker(bridge.run(), name="engine-events", group="bridge")

    async def on_unmount(self) -> None:
        await self.connection.aclose()

    def get_line_filters(self) -> Sequence[LineFilter]:
        """Textual's filters, then the backstop that keeps control characters off the screen."""
        return [*super().get_line_filters(), self.control_filter]

    def apply_themes(self) -> None:
        """Register the bundled and the user's themes; use the configured one."""
        for problem in register_themes(self, self.config_dir):
            self.notify(problem, title="Theme not loaded", severity="error", markup=False)
        name = self.config.theme
        if name in self.available_themes:
            self.theme = name
        else:
            known = ", ".join(sorted(self.available_themes))
            self.notify(
                f"theme {name!r} is not known: use one of {known}",
                severity="error",
                markup=False,
            )

    async def start_task(self, request: TaskRequest) -> list[TaskRecord]:
        """Check what the task needs, then submit it; its attempts."""
        await self.client.preflight(request)
        return await self.client.submit_attempts(request)

    @on(EngineEvent)
    def engine_event(self, message: EngineEvent) -> None:
        self.board.apply_event(message.event, message.record)
        if isinstance(message.event, TaskFinished) and message.record is not None:
            self.call_attention(message.event, message.record)

    @on(ServiceLost)
    def service_lost(self, lost: ServiceLost) -> None:
        """Say the service went away and how to reopen the board; the board stays readable."""
        self.notify(
            service_lost_notice(lost.reason),
            title="Service gone",
            severity="error",
            timeout=3600,
            markup=False,
        )

    @on(OutputBatch)
    def output_batch(self, batch: OutputBatch) -> None:
        self.board.apply_output(batch)

    def call_attention(self, finished: TaskFinished, record: TaskRecord) -> None:
        """A notification and the terminal bell for a task that ended."""
        severity, outcome = ATTENTION.get(finished.status, ("information", finished.status))
        title = task_title(record.prompt)
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
        """Textual's commands the board has no own version of, then the board's actions:
        each title once."""
        own = {binding.description for binding in ACTIONS}
        for command in super().get_system_commands(screen):
            if command.title not in own:
                yield command
        for binding in ACTIONS:
            yield SystemCommand(
                binding.description,
                binding.tooltip,
                partial(self.run_action, binding.action, self.board),
            )


async def run_board(repo: Path, paths: Paths | None = None) -> int:
    """Connect to the state dir's service (starting it when none answers) and run the board
    until the person quits; returns the exit code. The tasks go on in the service."""
    paths = paths or default_paths()
    try:
        config = load_config(paths)
        client = await ServiceClient.connect(paths, name="board")
    except (EngineError, ConfigError) as error:
        return fail(str(error))
    try:
        connect = partial(contextlib.nullcontext, client)
        app = TaskyardApp(connect, config, paths.config_dir, repo)
        await app.run_async()
        return app.return_code or 0
    finally:
        await client.close()
