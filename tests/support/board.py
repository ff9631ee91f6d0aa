"""Helpers for board tests: the board over a served engine, stored tasks without Docker, and
waits bounded by a deadline."""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from textual.drivers.headless_driver import HeadlessDriver
from textual.message import Message
from textual.pilot import Pilot

import tui.app
from engine.api import Engine
from engine.config import Config
from engine.paths import Paths
from engine.views.events import AgentMessage, CommandFinished, CommandStarted, Event, TaskFinished
from engine.views.task import TERMINAL, CommandRecord, TaskRecord
from sandboxes.fake import FakeBackend
from tests.support.agent_script import TEST_COMMAND, chunk_ids
from tests.support.model_server import Call, RecordedRequest, Reply, Step
from tests.support.repos import FIX_PATCH
from tests.support.service import client_of
from tui.app import TaskyardApp
from tui.bridge import EngineEvent

FROZEN_NOW = 1_767_225_600.0
TEST_OWNER = "tests"
"""The owner of stored tasks, whose lease is renewed ahead by TEST_LEASE_SECONDS."""
TEST_LEASE_SECONDS = 3600.0
"""2026-01-01 00:00 UTC: the clock of deterministic boards."""

CALC_DIFF = (
    "diff --git a/calc.py b/calc.py\n"
    "index 1b3d1c5..b7a2bc4 100644\n"
    "--- a/calc.py\n"
    "+++ b/calc.py\n"
    "@@ -1,2 +1,2 @@\n"
    " def add(a, b):\n"
    "-    return a - b\n"
    "+    return a + b\n"
)


def cited_answer(request: RecordedRequest) -> Reply:
    """The final answer, citing the file and both test runs by the chunk ids the engine gave."""
    failing, passing = chunk_ids(request)
    return Reply(
        text=(
            "Fixed `add`, which subtracted 【F:calc.py†L1-L2】. The test failed before "
            f"【{failing}†L1-L3】 and passes now 【{passing}†L1-L3】; see 【F:missing.py†L1】."
        )
    )


def calc_fix_script() -> list[Step]:
    """Run the failing test, patch calc.py, run it again, answer with citations."""
    return [
        Reply(tool_calls=[Call("shell", {"command": TEST_COMMAND})]),
        Reply(tool_calls=[Call("apply_patch", {"input": FIX_PATCH})]),
        Reply(tool_calls=[Call("shell", {"command": TEST_COMMAND})]),
        cited_answer,
    ]


def stored_engine(home: Path, **config: Any) -> Engine:
    """An Engine on a fresh store under `home` whose one host, `local`, is a FakeBackend: the
    board reaches it at once and nothing here needs Docker."""
    paths = Paths(config_dir=home / "config", state_dir=home / "state")
    return Engine(paths, Config.model_validate(config), backend=FakeBackend(home / "sandboxes"))


class ServedBoard(TaskyardApp):
    """The board as a client of `engine`, served on a real socket in the app's own loop for
    as long as the app runs (the engine is closed after); `engine` stays at hand for setting
    up and checking the store."""

    CSS_PATH = str(Path(tui.app.__file__).parent / TaskyardApp.CSS_PATH)

    def __init__(
        self, engine: Engine, repo: Path, clock: Callable[[], float] = lambda: FROZEN_NOW
    ) -> None:
        connect = partial(client_of, engine, "board")
        super().__init__(connect, engine.config, engine.paths.config_dir, repo, clock)
        self.engine = engine


def store_task(engine: Engine, task_id: str, **fields: Any) -> TaskRecord:
    """Insert a task record as if it had run; its owner's lease stays live through the test, so
    another engine on the store leaves it as given."""
    values: dict[str, Any] = {
        "id": task_id,
        "created": FROZEN_NOW - 600,
        "updated": FROZEN_NOW - 300,
        "prompt": "Fix the failing test",
        "repo": "/work/calc",
        "ref": "main",
        "mode": "code",
        "environment": "default",
        "image": "taskyard-sandbox:latest",
        "status": "ready",
        "owner": TEST_OWNER,
        "host": "local",
        **fields,
    }
    record = TaskRecord(**values)
    engine.store.renew_lease(TEST_OWNER, time.time() + TEST_LEASE_SECONDS)
    engine.store.insert_task(record)
    record_task_events(engine, record)
    return record


def record_task_events(engine: Engine, record: TaskRecord) -> None:
    """The events a run of the task would have recorded about its answer and its end."""
    if record.final_message:
        answer = AgentMessage(
            task_id=record.id, ts=record.updated - 1, text=record.final_message, turn=1
        )
        engine.store.record_event(answer)
    if record.status in TERMINAL:
        finished = TaskFinished(
            task_id=record.id,
            ts=record.updated,
            status=record.status,
            diff=record.diff,
            final_message=record.final_message,
            citations=record.citations,
            usage=record.usage,
            error=record.error,
        )
        engine.store.record_event(finished)


def store_command(
    engine: Engine, task_id: str, chunk_id: str, command: list[str], output: str, **fields: Any
) -> CommandRecord:
    """Insert a finished command with its output in a log file under the engine's state dir."""
    log_path = engine.paths.logs_dir / task_id / f"{chunk_id}.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    log_path.write_text(output, encoding="utf-8")
    values: dict[str, Any] = {
        "chunk_id": chunk_id,
        "task_id": task_id,
        "phase": "agent",
        "command": command,
        "workdir": "/workspace/repo",
        "started": FROZEN_NOW - 500,
        "finished": FROZEN_NOW - 498.5,
        "exit_code": 0,
        "timed_out": False,
        "output_lines": output.count("\n"),
        "output_bytes": len(output.encode()),
        "log_path": str(log_path),
        **fields,
    }
    record = CommandRecord(**values)
    engine.store.start_command(record)
    record_command_events(engine, record)
    return record


def record_command_events(engine: Engine, record: CommandRecord) -> None:
    """The events a run of the command would have recorded."""
    started = CommandStarted(
        task_id=record.task_id,
        ts=record.started,
        chunk_id=record.chunk_id,
        command=record.command,
        workdir=record.workdir,
        phase=record.phase,
    )
    engine.store.record_event(started)
    if record.finished is not None:
        finished = CommandFinished(
            task_id=record.task_id,
            ts=record.finished,
            chunk_id=record.chunk_id,
            command=record.command,
            exit_code=record.exit_code,
            timed_out=record.timed_out,
            duration=record.finished - record.started,
            output_lines=record.output_lines,
            output_bytes=record.output_bytes,
        )
        engine.store.record_event(finished)


class EventLog:
    """Engine events the app received, recorded by run_test's message hook."""

    def __init__(self) -> None:
        self.events: list[Event] = []

    def __call__(self, message: Message) -> None:
        if isinstance(message, EngineEvent):
            self.events.append(message.event)

    def finished(self, task_id: str, count: int = 1) -> bool:
        """Whether task.finished arrived `count` times for the task."""
        return self.count(task_id, "task.finished") >= count

    def count(self, task_id: str, event_type: str) -> int:
        return sum(1 for e in self.events if e.task_id == task_id and e.type == event_type)


async def wait_until(
    pilot: Pilot[Any], condition: Callable[[], object], what: str, timeout: float = 120.0
) -> None:
    """Let the app run until condition() is true; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g}s waiting for {what}")
        await pilot.pause(0.05)


def recording_driver(written: list[str]) -> type[HeadlessDriver]:
    """A headless driver that says it is not, so the app renders every frame and writes it
    here: into `written`, as a terminal would receive it."""

    class RecordingDriver(HeadlessDriver):
        @property
        def is_headless(self) -> bool:
            return False

        def write(self, data: str) -> None:
            written.append(data)

    return RecordingDriver
