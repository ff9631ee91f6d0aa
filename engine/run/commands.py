"""Run one command in a task's sandbox: chunk id, log file, store rows and events.

This is where command output enters the engine: it passes through the task's redactor here,
before it reaches the log file, the events, the store or the model's view.
"""

from __future__ import annotations

import dataclasses
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from engine.agent.output import OutputRecorder, stored_view
from engine.record.store import Store
from engine.secrets.values import Redactor, StreamRedactor
from engine.views.events import CommandFinished, CommandStarted, Event, OutputChunk
from engine.views.task import CommandRecord
from sandboxes.base import ExecResult, OutputCallback, Sandbox, SandboxRestart

SHOWN_ARGUMENT_CHARS = 2000
"""Arguments longer than this are shown (in events and command records) by their two ends."""


def shown_argv(argv: list[str]) -> list[str]:
    """argv for display and records: each long argument cut to its ends, so the full text is
    kept once, in the conversation it came from."""
    return [shown_argument(argument) for argument in argv]


def shown_argument(argument: str) -> str:
    if len(argument) <= SHOWN_ARGUMENT_CHARS:
        return argument
    half = SHOWN_ARGUMENT_CHARS // 2
    elided = len(argument) - 2 * half
    return f"{argument[:half]}…[{elided} characters elided]…{argument[-half:]}"


def restart_note(restart: SandboxRestart | None) -> str:
    """What ending a killed command took, when it took restarting the sandbox."""
    if restart is None:
        return ""
    if restart.pids_limit is not None:
        return (
            "; the sandbox ran out of processes ([sandbox] pids_limit = "
            f"{restart.pids_limit}), so every process in it was ended and it was restarted"
        )
    return (
        "; its processes could not be ended one by one, so every process in the sandbox "
        "was ended and it was restarted"
    )


@dataclass(frozen=True)
class CommandOutcome:
    """A finished command and the model's view of its output."""

    chunk_id: str
    result: ExecResult
    output_view: str
    output_lines: int

    def killed(self, timeout: float) -> str:
        """How the command was ended at its timeout."""
        return f"killed after {timeout:g}s{restart_note(self.result.restart)}"

    def report(self, timeout: float) -> str:
        """The text the model gets back: chunk id first, then exit code, then output."""
        if self.result.timed_out:
            status = f"exit_code: timeout ({self.killed(timeout)})"
        elif self.result.interrupted:
            status = (
                f"exit_code: none ({self.result.interrupted}; the output below is what it "
                "wrote until then: run it again if you need its result)"
            )
        else:
            status = f"exit_code: {self.result.exit_code}"
        return (
            f"chunk_id: {self.chunk_id}\n{status}\n"
            f"duration: {self.result.duration:.1f}s\n"
            f"output ({self.output_lines} lines):\n{self.output_view}"
        )


class CommandRunner:
    """Runs commands for one task, recording each before and after it runs."""

    def __init__(
        self,
        task_id: str,
        store: Store,
        emit: Callable[[Event], None],
        logs_dir: Path,
        head_lines: int,
        tail_lines: int,
    ) -> None:
        self.task_id = task_id
        self._store = store
        self._emit = emit
        self._logs_dir = logs_dir
        self._head_lines = head_lines
        self._tail_lines = tail_lines
        self.redactor = Redactor(())
        """Replaces the task's secret values in output and commands; none until they resolve."""

    def _new_chunk_id(self) -> str:
        while True:
            chunk_id = secrets.token_hex(4)
            if self._store.get_command(self.task_id, chunk_id) is None:
                return chunk_id

    async def run(
        self,
        sandbox: Sandbox,
        argv: list[str],
        *,
        workdir: str,
        phase: str,
        timeout: float,
        env: dict[str, str] | None = None,
        user: str | None = None,
        call_id: str = "",
        stdin_path: str | None = None,
    ) -> CommandOutcome:
        """Run argv, streaming redacted output to the log file and as events; record its end.

        Its run id is recorded before it starts (with `call_id`, the tool call it runs for), so
        another process can follow it to its end when this one stops. `stdin_path`, a host
        file, is its input."""
        chunk_id, run_id = self._new_chunk_id(), secrets.token_hex(16)
        log_path = self._logs_dir / self.task_id / f"{chunk_id}.log"
        recorder = OutputRecorder(log_path, self._head_lines, self._tail_lines)
        shown = shown_argv([self.redactor.redact_text(arg) for arg in argv])
        self._record_start(chunk_id, shown, workdir, phase, log_path, run_id, call_id)
        return await self._recorded(
            chunk_id,
            shown,
            recorder,
            time.time(),
            lambda on_output: sandbox.exec(
                argv,
                workdir=workdir,
                env=env,
                timeout=timeout,
                on_output=on_output,
                user=user,
                run_id=run_id,
                stdin_path=stdin_path,
            ),
        )

    async def reattach(
        self, sandbox: Sandbox, record: CommandRecord, *, timeout: float, user: str | None = None
    ) -> CommandOutcome:
        """Follow a command whose process stopped to its end, from the first byte of the copy
        of its output kept in the sandbox, killed at its own timeout like `run` kills it.

        Its output is redacted again from the start and its log file rewritten to what an
        uninterrupted run would have written; only output beyond what the log held is
        announced; its end is recorded like `run` records it. RunLost when its end cannot be
        known (then it is recorded as ended without an exit code)."""
        recorder = OutputRecorder(
            Path(record.log_path), self._head_lines, self._tail_lines, rewrite=True
        )
        remaining = max(0.0, record.started + timeout - time.time())
        return await self._recorded(
            record.chunk_id,
            record.command,
            recorder,
            record.started,
            lambda on_output: sandbox.reattach(
                record.run_id, timeout=remaining, on_output=on_output, user=user
            ),
        )

    async def _recorded(
        self,
        chunk_id: str,
        shown: list[str],
        recorder: OutputRecorder,
        started: float,
        follow: Callable[[OutputCallback], Awaitable[ExecResult]],
    ) -> CommandOutcome:
        """Follow a command with `follow`, its output redacted into the recorder and announced;
        record its end, also when following it fails."""
        stream = self.redactor.stream()

        def on_output(data: bytes) -> None:
            self._take(recorder, chunk_id, stream.feed(data))

        try:
            result = await follow(on_output)
        except BaseException:
            self._close(recorder, chunk_id, stream)
            self._record_finish(chunk_id, shown, ExecResult(None, False, 0.0), recorder)
            raise
        self._close(recorder, chunk_id, stream)
        result = dataclasses.replace(result, duration=time.time() - started)
        self._record_finish(chunk_id, shown, result, recorder)
        return CommandOutcome(chunk_id, result, recorder.model_view(), recorder.lines)

    def recorded_outcome(self, record: CommandRecord) -> CommandOutcome:
        """The outcome of a command recorded to its end, read back from its log file."""
        view = stored_view(Path(record.log_path), self._head_lines, self._tail_lines)
        finished = record.finished if record.finished is not None else record.started
        result = ExecResult(record.exit_code, record.timed_out, finished - record.started)
        return CommandOutcome(record.chunk_id, result, view.model_view(), view.lines)

    def _take(self, recorder: OutputRecorder, chunk_id: str, data: bytes) -> None:
        """Store redacted output, then announce it."""
        text = recorder.feed(data) if data else ""
        if text:
            offset = recorder.chars - len(text)
            self._emit(
                OutputChunk(task_id=self.task_id, chunk_id=chunk_id, text=text, offset=offset)
            )

    def _close(self, recorder: OutputRecorder, chunk_id: str, stream: StreamRedactor) -> None:
        """Pass on what the redactor held back, then close the log file."""
        self._take(recorder, chunk_id, stream.flush())
        recorder.close()

    def _record_start(
        self,
        chunk_id: str,
        argv: list[str],
        workdir: str,
        phase: str,
        log_path: Path,
        run_id: str,
        call_id: str,
    ) -> None:
        record = CommandRecord(
            chunk_id=chunk_id,
            task_id=self.task_id,
            phase=phase,
            command=argv,
            workdir=workdir,
            started=time.time(),
            finished=None,
            exit_code=None,
            timed_out=False,
            output_lines=0,
            output_bytes=0,
            log_path=str(log_path),
            run_id=run_id,
            call_id=call_id,
        )
        self._store.start_command(record)
        self._emit(
            CommandStarted(
                task_id=self.task_id, chunk_id=chunk_id, command=argv, workdir=workdir, phase=phase
            )
        )

    def _record_finish(
        self, chunk_id: str, argv: list[str], result: ExecResult, recorder: OutputRecorder
    ) -> None:
        if recorder.bytes < recorder.shown:
            recorder = stored_view(recorder.log_path, self._head_lines, self._tail_lines)
        self._store.finish_command(
            self.task_id,
            chunk_id,
            exit_code=result.exit_code,
            timed_out=result.timed_out,
            output_lines=recorder.lines,
            output_bytes=recorder.bytes,
        )
        self._emit(
            CommandFinished(
                task_id=self.task_id,
                chunk_id=chunk_id,
                command=argv,
                exit_code=result.exit_code,
                timed_out=result.timed_out,
                duration=round(result.duration, 3),
                output_lines=recorder.lines,
                output_bytes=recorder.bytes,
            )
        )
