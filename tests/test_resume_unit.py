"""The pure parts of resuming a task: the log rewritten from the command's copy, and which
result a tool call left running by a stopped process gets."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any, cast

import pytest

from engine.agent.loop import turns_since_prompt, wall_seconds_used
from engine.agent.repair import dangling_calls, recovery_for
from engine.models.base import AssistantMessage, ToolCall, ToolResult, UserMessage
from engine.record.store import Store
from engine.run.commands import CommandRunner
from engine.secrets.values import Redactor, Secret
from engine.views.events import (
    CommandFinished,
    CommandStarted,
    Event,
    OutputChunk,
    TaskResumed,
    TaskStatusChanged,
)
from engine.views.task import CommandRecord, TaskStatus
from sandboxes.base import ExecResult, OutputCallback, RunLost, Sandbox

SECRET = Secret("API_TOKEN", "s3cr3t-value-42")
COPY = [
    b"line 1 s3cr3t-",
    b"value-42 end\n",
    b"caf\xc3",
    b"\xa9 line 2\n",
    b"line 3 s3cr3t-value-42\n",
]
"""A command's output as the sandbox streamed it: a secret and a UTF-8 character split."""
SHELL = ToolCall("call_1", "shell", json.dumps({"command": ["make"]}))
PATCH = ToolCall("call_2", "apply_patch", json.dumps({"input": "*** Begin Patch"}))


class ReplayingSandbox:
    """Replays the copy of a run's output, in other chunks than the first run saw, then ends."""

    def __init__(self, copy: bytes, exit_code: int) -> None:
        self.copy = copy
        self.exit_code = exit_code
        self.followed: list[str] = []

    async def reattach(
        self, run_id: str, *, timeout: float | None, on_output: OutputCallback, user: str | None
    ) -> ExecResult:
        self.followed.append(run_id)
        for start in range(0, len(self.copy), 5):
            on_output(self.copy[start : start + 5])
        return ExecResult(self.exit_code, False, 0.1)


class LostSandbox:
    """A sandbox where the run's record is gone."""

    async def reattach(self, run_id: str, **_: Any) -> ExecResult:
        raise RunLost(f"run {run_id} is gone")


def runner(tmp_path: Path, events: list[Event]) -> tuple[CommandRunner, Store]:
    store = Store(tmp_path / "db.sqlite")
    commands = CommandRunner("t1", store, events.append, tmp_path / "logs", 100, 100)
    commands.redactor = Redactor([SECRET])
    return commands, store


def uninterrupted_log() -> bytes:
    """The log an uninterrupted run writes for COPY, streamed as COPY's chunks."""
    stream = Redactor([SECRET]).stream()
    return b"".join(stream.feed(chunk) for chunk in COPY) + stream.flush()


def interrupted_command(store: Store, log: Path, shown: bytes) -> CommandRecord:
    """A command recorded as started, its log holding what was shown before the process died."""
    log.parent.mkdir(parents=True, exist_ok=True)
    log.write_bytes(shown)
    record = CommandRecord(
        chunk_id="c1",
        task_id="t1",
        phase="agent",
        command=["make"],
        workdir="/",
        started=time.time(),
        finished=None,
        exit_code=None,
        timed_out=False,
        output_lines=0,
        output_bytes=0,
        log_path=str(log),
        run_id="ab" * 16,
        call_id="call_1",
    )
    store.start_command(record)
    return record


async def test_a_reattached_command_rewrites_its_log_as_an_uninterrupted_run_would(
    tmp_path: Path,
) -> None:
    expected = uninterrupted_log()
    assert b"s3cr3t" not in expected and b"***API_TOKEN***" in expected
    events: list[Event] = []
    commands, store = runner(tmp_path, events)
    shown = expected[:20]
    record = interrupted_command(store, tmp_path / "logs" / "t1" / "c1.log", shown)
    sandbox = ReplayingSandbox(b"".join(COPY), exit_code=3)
    outcome = await commands.reattach(cast(Sandbox, sandbox), record, timeout=60)
    assert sandbox.followed == [record.run_id]
    assert Path(record.log_path).read_bytes() == expected
    published = "".join(e.text for e in events if isinstance(e, OutputChunk))
    assert published == expected[len(shown) :].decode()
    [finished] = [e for e in events if isinstance(e, CommandFinished)]
    assert finished.exit_code == 3 and finished.output_bytes == len(expected)
    stored = store.get_command("t1", "c1")
    assert stored is not None and stored.exit_code == 3 and stored.output_lines == 3
    assert outcome.report(60).splitlines()[1] == "exit_code: 3"
    assert "café line 2" in outcome.output_view


async def test_a_lost_run_keeps_the_log_that_was_shown(tmp_path: Path) -> None:
    commands, store = runner(tmp_path, [])
    shown = b"line 1 ***API_TOKEN*** end\n"
    record = interrupted_command(store, tmp_path / "logs" / "t1" / "c1.log", shown)
    with pytest.raises(RunLost):
        await commands.reattach(cast(Sandbox, LostSandbox()), record, timeout=60)
    assert Path(record.log_path).read_bytes() == shown
    stored = store.get_command("t1", "c1")
    assert stored is not None and stored.finished is not None and stored.exit_code is None
    assert stored.output_bytes == len(shown) and stored.output_lines == 1


def command(**changes: Any) -> CommandRecord:
    values: dict[str, Any] = {
        "chunk_id": "c1",
        "task_id": "t1",
        "phase": "agent",
        "command": ["make"],
        "workdir": "/",
        "started": 1.0,
        "finished": None,
        "exit_code": None,
        "timed_out": False,
        "output_lines": 0,
        "output_bytes": 0,
        "log_path": "/dev/null",
        "run_id": "ab" * 16,
        "call_id": "call_1",
    }
    return CommandRecord(**{**values, **changes})


def test_a_running_command_with_a_run_id_is_reattached() -> None:
    assert recovery_for(SHELL, command()) == "reattach"


def test_a_command_recorded_to_its_end_gives_its_recorded_result() -> None:
    assert recovery_for(SHELL, command(finished=2.0, exit_code=0)) == "recorded"
    assert recovery_for(SHELL, command(finished=2.0, timed_out=True)) == "recorded"


def test_a_result_that_cannot_be_known_is_aborted() -> None:
    assert recovery_for(SHELL, command(run_id="")) == "aborted"
    assert recovery_for(SHELL, None) == "aborted"
    assert recovery_for(SHELL, command(finished=2.0)) == "aborted"
    assert recovery_for(PATCH, None) == "aborted"


def test_the_dangling_calls_are_those_of_the_last_message_without_a_result() -> None:
    asked = AssistantMessage("", (SHELL, PATCH))
    assert dangling_calls([UserMessage("go"), asked]) == [SHELL, PATCH]
    assert dangling_calls([UserMessage("go"), asked, ToolResult("call_1", "ok")]) == [PATCH]
    answered = [asked, ToolResult("call_1", "ok"), ToolResult("call_2", "ok")]
    assert dangling_calls([UserMessage("go"), *answered]) == []
    assert dangling_calls([asked, UserMessage("more")]) == []
    assert dangling_calls([UserMessage("go")]) == []


def test_turns_since_the_last_prompt_count_against_the_turn_budget() -> None:
    first = [UserMessage("go"), AssistantMessage("", (SHELL,)), ToolResult("call_1", "ok")]
    assert turns_since_prompt(first) == 1
    follow_up = [*first, AssistantMessage("done", ()), UserMessage("more")]
    assert turns_since_prompt(follow_up) == 0
    assert turns_since_prompt([*follow_up, AssistantMessage("", (PATCH,))]) == 1


def running(ts: float) -> dict[str, Any]:
    return TaskStatusChanged(task_id="t", ts=ts, status=TaskStatus.RUNNING).to_dict()


def started(ts: float) -> dict[str, Any]:
    return CommandStarted(
        task_id="t", ts=ts, chunk_id="c", phase="agent", command=["true"], workdir="/repo"
    ).to_dict()


def taken_up(ts: float, last_seen: float) -> dict[str, Any]:
    return TaskResumed(task_id="t", ts=ts, reason="r", last_seen=last_seen).to_dict()


def test_a_run_keeps_the_wall_time_it_had_before_each_take_up_but_not_the_time_down() -> None:
    first_life = [running(100.0), started(130.0)]
    assert wall_seconds_used([*first_life, taken_up(1000.0, last_seen=160.0)]) == 60.0
    second_life = [*first_life, taken_up(1000.0, 160.0), started(1010.0), taken_up(5000, 1025.0)]
    assert wall_seconds_used(second_life) == 60.0 + 25.0


def test_the_last_event_counts_when_the_stopped_process_left_no_heartbeat() -> None:
    assert wall_seconds_used([running(100.0), started(150.0), taken_up(900.0, 0.0)]) == 50.0


def test_a_follow_up_starts_a_new_wall_time_budget() -> None:
    events = [running(0.0), taken_up(50.0, 40.0), running(500.0), taken_up(600.0, 530.0)]
    assert wall_seconds_used(events) == 30.0
    assert wall_seconds_used([running(0.0), started(10.0)]) == 0.0
