"""`taskyard run PROMPT`: run one task to its end, printing progress or JSON Lines."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Callable

from engine.api import Engine, TaskRequest
from engine.bus import Subscription
from engine.diffs import diff_stat
from engine.events import (
    AgentMessage,
    CommandFinished,
    CommandStarted,
    Event,
    FollowUpStarted,
    ModelRetry,
    OutputChunk,
    PatchApplied,
    TaskFinished,
    TaskStatusChanged,
    ToolCallRejected,
)
from tui.commands.common import command_line, plural, print_json, safe, with_engine

PrintEvent = Callable[[Event], None]


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("run", help="run one task to its end")
    parser.add_argument("prompt", help="what the agent should do")
    parser.add_argument("--repo", default=".", help="local path or URL (default: .)")
    parser.add_argument("--ref", help="branch, tag or commit (default: HEAD)")
    parser.add_argument("--env", default="default", help="environment from the config")
    parser.add_argument("--mode", choices=("code", "ask"), default="code")
    parser.add_argument("--image", help="sandbox image (default: the environment's)")
    parser.add_argument("--host", help="Docker host to run on (default: any with a free slot)")
    parser.add_argument("--json", action="store_true", help="JSON Lines events on stdout")
    parser.set_defaults(handler=main)


def main(args: argparse.Namespace) -> int:
    request = TaskRequest(
        prompt=args.prompt,
        repo=args.repo,
        ref=args.ref,
        environment=args.env,
        mode=args.mode,
        image=args.image,
        host=args.host,
    )
    printer = print_json_event if args.json else HumanPrinter().print
    return asyncio.run(with_engine(lambda engine: run_task(engine, request, printer)))


async def run_task(engine: Engine, request: TaskRequest, printer: PrintEvent) -> int:
    """Submit, follow the task's events to its end; 0 when ready for review."""
    await engine.preflight(request)
    subscription = engine.subscribe()
    record = await engine.submit(request)
    return await follow_to_end(subscription, record.id, printer)


async def follow_to_end(subscription: Subscription, task_id: str, printer: PrintEvent) -> int:
    """Print the task's events until it finishes, then close the subscription; 0 when the
    task is ready for review."""
    try:
        async for event in subscription:
            if event.task_id != task_id:
                continue
            printer(event)
            if isinstance(event, TaskFinished):
                return exit_code(event)
    finally:
        subscription.close()
    return 1


def exit_code(finished: TaskFinished) -> int:
    """0 when the task is ready for review; else 1, with the reason on stderr."""
    if finished.status == "ready":
        return 0
    reason = f": {safe(finished.error)}" if finished.error else ""
    print(f"taskyard: task {finished.task_id} {finished.status}{reason}", file=sys.stderr)
    return 1


def print_json_event(event: Event) -> None:
    print_json(event.to_dict())


class HumanPrinter:
    """Progress for a person: statuses, commands with their output, and the result."""

    def __init__(self) -> None:
        self._at_line_start = True
        self._last_agent_text = ""

    def print(self, event: Event) -> None:
        handler = getattr(self, f"_{type(event).__name__}", None)
        if handler is not None:
            handler(event)
        sys.stdout.flush()

    def _TaskStatusChanged(self, event: TaskStatusChanged) -> None:
        print(f"· {event.status}" + (f": {safe(event.detail)}" if event.detail else ""))

    def _FollowUpStarted(self, event: FollowUpStarted) -> None:
        print(f"follow-up: {safe(event.prompt).strip()}")

    def _CommandStarted(self, event: CommandStarted) -> None:
        print(f"$ {command_line(event.command)}  [{event.phase} {event.chunk_id}]")

    def _OutputChunk(self, event: OutputChunk) -> None:
        text = safe(event.text)
        for piece in text.splitlines(keepends=True):
            prefix = "  │ " if self._at_line_start else ""
            sys.stdout.write(prefix + piece)
            self._at_line_start = piece.endswith("\n")

    def _CommandFinished(self, event: CommandFinished) -> None:
        if not self._at_line_start:
            sys.stdout.write("\n")
            self._at_line_start = True
        state = "timed out, killed" if event.timed_out else f"exit {event.exit_code}"
        mark = "✓" if event.exit_code == 0 else "✗"
        print(f"  {mark} {state} ({event.duration:.1f}s, {event.output_lines} lines)")

    def _AgentMessage(self, event: AgentMessage) -> None:
        self._last_agent_text = event.text
        print(f"agent: {safe(event.text).strip()}")

    def _PatchApplied(self, event: PatchApplied) -> None:
        print(("patch: " if event.ok else "patch failed: ") + safe(event.summary))

    def _ToolCallRejected(self, event: ToolCallRejected) -> None:
        print(f"tool call rejected ({event.tool}): {safe(event.error)}")

    def _ModelRetry(self, event: ModelRetry) -> None:
        print(f"model: {safe(event.reason)}; retry {event.attempt} in {event.delay:.1f}s")

    def _TaskFinished(self, event: TaskFinished) -> None:
        print()
        print(
            f"{event.status}: task {event.task_id}"
            + (f" — {safe(event.error)}" if event.error else "")
        )
        if event.final_message and event.final_message != self._last_agent_text:
            print(safe(event.final_message).strip())
        self._summary(event)

    def _summary(self, event: TaskFinished) -> None:
        stats = diff_stat(event.diff)
        if stats:
            added = sum(stat.added for stat in stats)
            removed = sum(stat.removed for stat in stats)
            print(f"\n{plural(len(stats), 'file')} changed, +{added} -{removed} on {event.branch}")
        valid = sum(1 for citation in event.citations if citation["valid"])
        if event.citations:
            print(f"citations: {valid} of {len(event.citations)} verified")
        usage = event.usage
        if usage:
            print(f"tokens: {usage.get('input_tokens', 0)} in, {usage.get('output_tokens', 0)} out")
        if event.status == "ready" and stats:
            print(f"next: taskyard show {event.task_id} · taskyard apply {event.task_id}")
