"""`taskyard logs TASK [-f]`: a task's loop from its start, its recorded events and each
command's output as `run` prints them; with -f, then the rest of it live until it ends.

`taskyard logs TASK CHUNK`: the whole output of one command, CHUNK its id as `taskyard show`
lists it (or a unique prefix of at least MIN_CHUNK_PREFIX characters), paged on a terminal."""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import sys
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from engine.errors import EngineError
from engine.service.client import ServiceError
from engine.views import ACTIVE
from engine.views.events import CommandFinished, CommandStarted, Event, OutputChunk, TaskFinished
from tui.colour import paged
from tui.commands.common import fail, print_json, with_client
from tui.commands.run import HumanPrinter, PrintEvent, exit_code, print_json_event

if TYPE_CHECKING:
    from engine.service.client import ClientSubscription, ServiceClient
    from engine.views import CommandRecord, TaskRecord

MIN_CHUNK_PREFIX = 4
"""The fewest characters of a command's id that name it, as for task ids."""


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "logs", help="print a task's events and command output from its start"
    )
    parser.add_argument("task", help="task id (a unique prefix is enough)")
    parser.add_argument(
        "chunk",
        nargs="?",
        help="print only this command's whole output: its id as `taskyard show TASK` lists it "
        f"(a unique prefix of {MIN_CHUNK_PREFIX} characters or more is enough)",
    )
    parser.add_argument(
        "-f", "--follow", action="store_true", help="then follow it live until it ends"
    )
    parser.add_argument(
        "--json",
        action="store_true",
        help="JSON Lines events on stdout, as `run --json` prints; with CHUNK, one JSON object: "
        "the command and its output",
    )
    parser.set_defaults(handler=main)


def main(args: argparse.Namespace) -> int:
    if args.chunk is not None:
        if args.follow:
            return fail(f"-f follows a whole task: `taskyard logs -f {args.task}` without CHUNK")
        return asyncio.run(
            with_client(lambda client: show_output(client, args.task, args.chunk, args.json))
        )
    printer = print_json_event if args.json else HumanPrinter().print
    return asyncio.run(
        with_client(lambda client: show_log(client, args.task, args.follow, printer))
    )


async def show_log(client: ServiceClient, task_id: str, follow: bool, printer: PrintEvent) -> int:
    """Print the task's log; with `follow`, to its end. 0 unless it ended other than ready."""
    task = await client.task(task_id)
    if not follow:
        history = await recorded(client, task.id)
        print_all(history.events, printer)
        last = history.last_finished
        return 0 if last is None or task.status in ACTIVE else exit_code(last)
    subscription = await client.subscribe(task.id)
    try:
        return await follow_log(client, subscription, task.id, printer)
    finally:
        subscription.close()


async def show_output(client: ServiceClient, task_id: str, chunk: str, as_json: bool) -> int:
    """Print one command's whole output (made inert by stdout), paged when longer than the
    screen; with `as_json`, the command's record and its output as one JSON object."""
    task = await client.task(task_id)
    command = chosen_command(await client.commands(task.id), task.id, chunk)
    data = await client.read_output(task.id, command.chunk_id)
    text = data.decode("utf-8", errors="replace")
    if as_json:
        print_json({**command.to_dict(), "output": text})
        return 0
    with paged():
        sys.stdout.write(text if text.endswith("\n") or not text else text + "\n")
    return 0


def chosen_command(commands: list[CommandRecord], task_id: str, chunk: str) -> CommandRecord:
    """The command of the task whose id is `chunk`, or the one it is a prefix of."""
    listed = f"`taskyard show {task_id}` lists its commands"
    exact = [command for command in commands if command.chunk_id == chunk]
    if exact:
        return exact[0]
    if len(chunk) < MIN_CHUNK_PREFIX:
        raise EngineError(
            f"command id {chunk!r} is too short: give at least {MIN_CHUNK_PREFIX} characters "
            f"({listed})"
        )
    matches = [command for command in commands if command.chunk_id.startswith(chunk)]
    if not matches:
        raise EngineError(f"task {task_id} ran no command {chunk!r}: {listed}")
    if len(matches) > 1:
        ids = ", ".join(command.chunk_id for command in matches[:5])
        raise EngineError(f"command id {chunk!r} is ambiguous ({ids}): give more characters")
    return matches[0]


@dataclasses.dataclass
class History:
    """A task's recorded events in order, each command's output as one command.output event."""

    events: list[Event]
    running: dict[str, str]
    """The output read so far of each command that had not finished, by chunk id."""

    @property
    def last_finished(self) -> TaskFinished | None:
        finished = [event for event in self.events if isinstance(event, TaskFinished)]
        return finished[-1] if finished else None


async def recorded(client: ServiceClient, task_id: str) -> History:
    """The events, then the output of each command: after its start while it runs, else
    before its end."""
    events = await client.events(task_id)
    ended = {event.chunk_id for event in events if isinstance(event, CommandFinished)}
    history = History([], {})
    for event in events:
        if isinstance(event, CommandFinished):
            history.events.extend(await output_of(client, event))
        history.events.append(event)
        if isinstance(event, CommandStarted) and event.chunk_id not in ended:
            output = await output_of(client, event)
            history.running[event.chunk_id] = "".join(chunk.text for chunk in output)
            history.events.extend(output)
    return history


async def output_of(
    client: ServiceClient, event: CommandStarted | CommandFinished
) -> list[OutputChunk]:
    """The command's stored output as one event at the time of `event` (none when empty)."""
    data = await client.read_output(event.task_id, event.chunk_id)
    text = data.decode("utf-8", errors="replace")
    if not text:
        return []
    return [OutputChunk(task_id=event.task_id, chunk_id=event.chunk_id, text=text, ts=event.ts)]


async def follow_log(
    client: ServiceClient, subscription: ClientSubscription, task_id: str, printer: PrintEvent
) -> int:
    """Print the history, then the live events it does not already hold until the task is no
    longer running; the exit code of its last task.finished."""
    history = await recorded(client, task_id)
    print_all(history.events, printer)
    last = history.last_finished
    fresh = Fresh(history)
    ended = asyncio.ensure_future(client.wait(task_id))
    try:
        await client.task(task_id)
        queued = drain(subscription)
        fresh.align(queued)
        last = print_fresh(queued, fresh, printer) or last
        while not ended.done():
            event = await next_event(subscription, ended)
            if event is not None:
                last = print_fresh([event], fresh, printer) or last
        task = await ended
        await client.task(task_id)
        last = print_fresh(drain(subscription), fresh, printer) or last
    finally:
        ended.cancel()
    if last is None:
        return fail(f"task {task.id} is {task.status}", code=1)
    return exit_code(last)


def print_all(events: Iterable[Event], printer: PrintEvent) -> None:
    for event in events:
        printer(event)


def print_fresh(events: list[Event], fresh: Fresh, printer: PrintEvent) -> TaskFinished | None:
    """Print the events history does not hold; the last task.finished among them."""
    last = None
    for event in events:
        shown = fresh(event)
        if shown is not None:
            printer(shown)
            last = shown if isinstance(shown, TaskFinished) else last
    return last


def drain(subscription: ClientSubscription) -> list[Event]:
    """The events the subscription holds now, without waiting."""
    events = []
    while not subscription.queue.empty():
        events.append(checked(subscription.queue.get_nowait()))
    return events


async def next_event(
    subscription: ClientSubscription, ended: asyncio.Future[TaskRecord]
) -> Event | None:
    """The next live event, or None when `ended` completes first."""
    getting = asyncio.ensure_future(subscription.queue.get())
    either: set[asyncio.Future[Any]] = {getting, ended}
    await asyncio.wait(either, return_when=asyncio.FIRST_COMPLETED)
    if not getting.done():
        getting.cancel()
        return None
    return checked(getting.result())


def checked(event: Event | None) -> Event:
    """The event; the connection's end (None) is an error."""
    if event is None:
        raise ServiceError("the connection to the taskyard service ended while following the task")
    return event


class Fresh:
    """Which live events the history already printed: recorded events by identity, the output
    of commands it saw end entirely, and of commands it saw running as much as it read."""

    def __init__(self, history: History) -> None:
        events = history.events
        self._recorded = {identity(e) for e in events if not isinstance(e, OutputChunk)}
        self._ended = {e.chunk_id for e in events if isinstance(e, CommandFinished)}
        self._running = history.running
        self._skip: dict[str, int] = {}

    def align(self, queued: list[Event]) -> None:
        """Measure, on the output queued when the history was read, how much of each running
        command's live output the history already holds: the longest start of it that the
        output read ends with (the rest was written after the read)."""
        for chunk_id, shown in self._running.items():
            live = "".join(
                event.text
                for event in queued
                if isinstance(event, OutputChunk) and event.chunk_id == chunk_id
            )
            self._skip[chunk_id] = overlap(shown, live)

    def __call__(self, event: Event) -> Event | None:
        """The part of `event` not yet printed, or None."""
        if not isinstance(event, OutputChunk):
            return None if identity(event) in self._recorded else event
        if event.chunk_id in self._ended:
            return None
        skip = self._skip.get(event.chunk_id, 0)
        if not skip:
            return event
        self._skip[event.chunk_id] = max(0, skip - len(event.text))
        rest = event.text[skip:]
        return dataclasses.replace(event, text=rest) if rest else None


def identity(event: Event) -> str:
    """An event as the store recorded it: its type, time and every field."""
    return json.dumps(event.to_dict(), sort_keys=True, default=str)


def overlap(shown: str, live: str) -> int:
    """The length of the longest start of `live` that `shown` ends with (Knuth-Morris-Pratt)."""
    pattern = live[: len(shown)]
    if not pattern:
        return 0
    border = borders(pattern)
    matched = 0
    for char in shown[len(shown) - len(pattern) :]:
        while matched and (matched == len(pattern) or pattern[matched] != char):
            matched = border[matched - 1]
        if pattern[matched] == char:
            matched += 1
    return matched


def borders(pattern: str) -> list[int]:
    """For each prefix of pattern, the length of its longest proper prefix that is also its
    suffix."""
    border = [0] * len(pattern)
    length = 0
    for index in range(1, len(pattern)):
        while length and pattern[index] != pattern[length]:
            length = border[length - 1]
        if pattern[index] == pattern[length]:
            length += 1
        border[index] = length
    return border
