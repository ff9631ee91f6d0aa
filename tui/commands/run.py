"""`taskyard run PROMPT`: run one task (or several attempts of it) in the service and follow it
to its end, printing progress or JSON Lines; attempts are ranked by evidence at the end. With
--detach, print the task ids once queued. Ctrl-C cancels the tasks it started."""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
import time
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any, TypeVar

from engine.errors import EngineError
from engine.views import MAX_ATTEMPTS, TERMINAL, TaskRequest, TaskStatus, diff_stat, is_remote
from engine.views.events import (
    AgentMessage,
    CommandFinished,
    CommandStarted,
    Event,
    FollowUpStarted,
    ModelRetry,
    OutputChunk,
    PatchApplied,
    PullRequestChanged,
    TaskFinished,
    TaskStatusChanged,
    ToolCallRejected,
)
from tui.commands.common import absolute_path, command_line, plural, print_json, with_client
from tui.present import plain

if TYPE_CHECKING:
    from engine.service.client import ClientSubscription, ServiceClient
    from engine.views import TaskRecord

PrintEvent = Callable[[Event], None]
T = TypeVar("T")
INTERRUPTED_EXIT = 130


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("run", help="run one task to its end")
    parser.add_argument("prompt", help="what the agent should do")
    parser.add_argument("--repo", default=".", help="local path or URL (default: .)")
    parser.add_argument("--ref", help="branch, tag or commit (default: HEAD)")
    parser.add_argument("--env", default="default", help="environment from the config")
    parser.add_argument("--mode", choices=("code", "ask"), default="code")
    parser.add_argument("--image", help="sandbox image (default: the environment's)")
    parser.add_argument("--host", help="Docker host to run on (default: any with a free slot)")
    parser.add_argument(
        "--attempts",
        type=attempts_count,
        default=1,
        metavar="N",
        help=f"run N attempts in parallel and rank them by evidence (1 to {MAX_ATTEMPTS})",
    )
    parser.add_argument(
        "--include-uncommitted",
        action="store_true",
        help="ship the local repository's uncommitted changes (untracked files that are not "
        "ignored too) as a commit on top of the ref; without it they are not part of the task",
    )
    parser.add_argument("--json", action="store_true", help="JSON Lines events on stdout")
    parser.add_argument(
        "--detach",
        action="store_true",
        help="print the task ids once queued and return; the service runs them "
        "(`taskyard logs -f ID` follows one)",
    )
    parser.set_defaults(handler=main)


def attempts_count(text: str) -> int:
    """A number of attempts from 1 to MAX_ATTEMPTS; argparse reports anything else."""
    count = int(text) if text.strip().isdigit() else 0
    if not 1 <= count <= MAX_ATTEMPTS:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a number of attempts: give 1 to {MAX_ATTEMPTS}"
        )
    return count


def main(args: argparse.Namespace) -> int:
    request = TaskRequest(
        prompt=args.prompt,
        repo=args.repo if is_remote(args.repo) else absolute_path(args.repo),
        ref=args.ref,
        environment=args.env,
        mode=args.mode,
        image=args.image,
        host=args.host,
        attempts=args.attempts,
        include_uncommitted=args.include_uncommitted,
    )
    if args.detach:
        return asyncio.run(with_client(lambda client: queue_tasks(client, request, args.json)))
    return asyncio.run(with_client(lambda client: run_task(client, request, args.json)))


async def queue_tasks(client: ServiceClient, request: TaskRequest, as_json: bool) -> int:
    """Submit and return: the ids of the queued tasks, one a line (a JSON array with --json)."""
    await client.preflight(request)
    records = await client.submit_attempts(request)
    await note_uncommitted(client, request)
    if as_json:
        print_json([{"id": record.id, "attempt": record.attempt} for record in records])
    else:
        for record in records:
            print(record.id)
    return 0


def event_printer(as_json: bool, attempt: int | None = None) -> PrintEvent:
    """JSON Lines, or progress for a person prefixed with the attempt number when given."""
    return print_json_event if as_json else HumanPrinter(attempt).print


async def run_task(client: ServiceClient, request: TaskRequest, as_json: bool) -> int:
    """Submit, follow every attempt's events to its end; 0 when one is ready for review.
    Interrupted, cancel the attempts and exit 130."""
    await client.preflight(request)
    subscription = await client.subscribe()
    with Interruption() as interruption:
        try:
            records = await client.submit_attempts(request)
        except BaseException:
            subscription.close()
            raise
        await note_uncommitted(client, request)
        several = len(records) > 1
        printers = {
            record.id: event_printer(as_json, record.attempt if several else None)
            for record in records
        }
        finished = await interruption.guard(follow_all(subscription, printers))
    if finished is None:
        return await cancel_started(client, records)
    codes = [exit_code(event) for event in finished]
    if len(records) > 1:
        await report_ranking(client, records[0].id, as_json)
    return 0 if 0 in codes else 1


async def note_uncommitted(client: ServiceClient, request: TaskRequest) -> None:
    """Say on stderr (never among the JSON lines) what becomes of the repository's
    uncommitted changes: left out of the task, or included."""
    work = await client.uncommitted(request.repo)
    if not work:
        return
    if request.include_uncommitted:
        note = f"including {work.counted()} as a commit on top of HEAD"
    else:
        verb = "is" if work.count == 1 else "are"
        note = (
            f"{work.counted()} in {request.repo} {verb} not part of the task: commit them, "
            "or pass --include-uncommitted"
        )
    print(f"taskyard: note: {note}", file=sys.stderr)


class Interruption:
    """Ctrl-C while a command follows the tasks it started: instead of an exception anywhere,
    what it follows is cancelled, so it can cancel those tasks before it exits."""

    def __init__(self) -> None:
        self.seen = False
        self._guarded: asyncio.Task[Any] | None = None

    def __enter__(self) -> Interruption:
        asyncio.get_running_loop().add_signal_handler(signal.SIGINT, self._interrupt)
        return self

    def __exit__(self, *_: object) -> None:
        asyncio.get_running_loop().remove_signal_handler(signal.SIGINT)

    def _interrupt(self) -> None:
        self.seen = True
        if self._guarded is not None:
            self._guarded.cancel()

    async def guard(self, work: Coroutine[Any, Any, T]) -> T | None:
        """The result of work, or None when interrupted before or during it."""
        if self.seen:
            work.close()
            return None
        guarded = asyncio.ensure_future(work)
        self._guarded = guarded
        try:
            return await guarded
        except asyncio.CancelledError:
            if not self.seen:
                raise
            return None


async def cancel_started(client: ServiceClient, records: list[TaskRecord]) -> int:
    """Cancel the tasks of an interrupted run in the service; exit 130."""
    for record in records:
        try:
            await client.cancel(record.id)
        except EngineError:
            continue
    ids = ", ".join(record.id for record in records)
    print(f"taskyard: interrupted: cancelled task {ids}", file=sys.stderr)
    return INTERRUPTED_EXIT


async def follow_to_end(subscription: ClientSubscription, task_id: str, printer: PrintEvent) -> int:
    """Print the task's events until it finishes, then close the subscription; 0 when the
    task is ready for review."""
    finished = await follow_all(subscription, {task_id: printer})
    return exit_code(finished[0]) if finished else 1


async def follow_all(
    subscription: ClientSubscription, printers: dict[str, PrintEvent]
) -> list[TaskFinished]:
    """Print the events of the given tasks until each has finished, then close the
    subscription; their task.finished events."""
    finished: dict[str, TaskFinished] = {}
    try:
        async for event in subscription:
            printer = printers.get(event.task_id)
            if printer is None:
                continue
            printer(event)
            if isinstance(event, TaskFinished):
                finished[event.task_id] = event
                if len(finished) == len(printers):
                    break
    finally:
        subscription.close()
    return list(finished.values())


async def report_ranking(client: ServiceClient, task_id: str, as_json: bool) -> None:
    """The attempts ranked by evidence: a table, or one JSON line of type attempts.ranked."""
    ranked = await client.ranked_attempts(task_id)
    if as_json:
        attempts = [entry.to_dict() for entry in ranked]
        ranking = {"type": "attempts.ranked", "task_id": task_id, "ts": time.time()}
        print_json({**ranking, "attempts": attempts})
    else:
        from tui.commands.ranking import print_ranking

        print_ranking(ranked)


def exit_code(finished: TaskFinished) -> int:
    """0 when the task is ready for review; else 1, with the reason on stderr."""
    if finished.status == TaskStatus.READY:
        return 0
    reason = f": {finished.error}" if finished.error else ""
    print(f"taskyard: task {finished.task_id} {finished.status}{reason}", file=sys.stderr)
    return 1


def finished_state(event: CommandFinished) -> str:
    """How a command ended, in a few words: its exit code, killed at its timeout, or stopped
    from outside."""
    if event.timed_out:
        return "timed out, killed"
    if event.exit_code is None:
        return "stopped"
    return f"exit {event.exit_code}"


def print_json_event(event: Event) -> None:
    print_json(event.to_dict())


class HumanPrinter:
    """Progress for a person: statuses, commands with their output, and the result."""

    def __init__(self, attempt: int | None = None) -> None:
        self.prefix = f"[{attempt}] " if attempt is not None else ""
        """Before every line of an attempt's progress, which then comes in whole lines only."""
        self._at_line_start = True
        self._partial = ""
        self._last_agent_text = ""

    def print(self, event: Event) -> None:
        handler = getattr(self, f"_{type(event).__name__}", None)
        if handler is not None:
            handler(event)
        sys.stdout.flush()

    def _say(self, text: str = "") -> None:
        """Print text laid out plain, each line after the attempt prefix; blank lines stay blank."""
        for line in plain(text).split("\n"):
            print(self.prefix + line if line else "")

    def _TaskStatusChanged(self, event: TaskStatusChanged) -> None:
        """The new status, with its detail unless it ends the task: `exit_code` reports why a
        task ended, once, on stderr."""
        detail = event.detail if event.status not in TERMINAL else ""
        self._say(f"· {event.status}" + (f": {detail}" if detail else ""))

    def _FollowUpStarted(self, event: FollowUpStarted) -> None:
        self._say(f"follow-up: {event.prompt.strip()}")

    def _CommandStarted(self, event: CommandStarted) -> None:
        self._say(f"$ {command_line(event.command)}  [{event.phase} {event.chunk_id}]")

    def _OutputChunk(self, event: OutputChunk) -> None:
        text = plain(event.text)
        if self.prefix:
            self._write_whole_lines(text)
            return
        for piece in text.splitlines(keepends=True):
            prefix = "  │ " if self._at_line_start else ""
            sys.stdout.write(prefix + piece)
            self._at_line_start = piece.endswith("\n")

    def _write_whole_lines(self, text: str) -> None:
        """Output of one of several attempts, a whole line at a time so attempts never mix."""
        lines = (self._partial + text).split("\n")
        self._partial = lines.pop()
        for line in lines:
            sys.stdout.write(f"{self.prefix}  │ {line}\n")

    def _CommandFinished(self, event: CommandFinished) -> None:
        if self._partial:
            self._write_whole_lines("\n")
        if not self._at_line_start:
            sys.stdout.write("\n")
            self._at_line_start = True
        state = finished_state(event)
        mark = "✓" if event.exit_code == 0 else "✗"
        self._say(f"  {mark} {state} ({event.duration:.1f}s, {event.output_lines} lines)")

    def _AgentMessage(self, event: AgentMessage) -> None:
        self._last_agent_text = event.text
        self._say(f"agent: {event.text.strip()}")

    def _PatchApplied(self, event: PatchApplied) -> None:
        self._say(("patch: " if event.ok else "patch failed: ") + event.summary)

    def _ToolCallRejected(self, event: ToolCallRejected) -> None:
        self._say(f"tool call rejected ({event.tool}): {event.error}")

    def _ModelRetry(self, event: ModelRetry) -> None:
        self._say(f"model: {event.reason}; retry {event.attempt} in {event.delay:.1f}s")

    def _TaskFinished(self, event: TaskFinished) -> None:
        self._say()
        self._say(f"{event.status}: task {event.task_id}")
        if event.final_message and event.final_message != self._last_agent_text:
            self._say(event.final_message.strip())
        self._summary(event)

    def _PullRequestChanged(self, event: PullRequestChanged) -> None:
        if event.action == "failed":
            print(f"taskyard: {event.detail}", file=sys.stderr)
        elif event.action == "pushed":
            print(f"branch pushed: {event.url} ({event.detail})")
        else:
            print(f"pull request #{event.number} {event.action}: {event.url}")

    def _summary(self, event: TaskFinished) -> None:
        stats = diff_stat(event.diff)
        if stats:
            added = sum(stat.added for stat in stats)
            removed = sum(stat.removed for stat in stats)
            changed = f"{plural(len(stats), 'file')} changed, +{added} -{removed}"
            self._say(f"\n{changed} on {event.branch}")
        valid = sum(1 for citation in event.citations if citation["valid"])
        if event.citations:
            self._say(f"citations: {valid} of {len(event.citations)} verified")
        usage = event.usage
        if usage:
            spent = f"{usage.get('input_tokens', 0)} in, {usage.get('output_tokens', 0)} out"
            self._say(f"tokens: {spent}")
        if event.verdict:
            detail = f": {event.verdict_detail}" if event.verdict_detail else ""
            self._say(f"evidence: {event.verdict}{detail}")
        if event.status == TaskStatus.READY and stats and not self.prefix:
            self._say(f"next: taskyard show {event.task_id} · taskyard apply {event.task_id}")
