"""What the plain commands share: reaching the service (or an engine), and reporting errors.

Kept light: a command that only talks to the service loads no model client, Docker or UI code.
"""

from __future__ import annotations

import argparse
import shlex
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from engine.errors import EngineError
from engine.paths import default_paths
from engine.service.oneshot import NotRunning, call_once
from tui.present import json_text, plain

if TYPE_CHECKING:
    from engine.service.client import ServiceClient
    from engine.views import TaskRecord


def fail(message: str, code: int = 2) -> int:
    """Print `taskyard: message` to stderr and return the exit code."""
    print(f"taskyard: {message}", file=sys.stderr)
    return code


async def with_client(work: Callable[[ServiceClient], Awaitable[int]]) -> int:
    """Connect to the service (starting it when none answers), run work, disconnect; user
    errors become messages. Tasks go on in the service whatever happens here."""
    from engine.service.client import ServiceClient

    try:
        client = await ServiceClient.connect()
    except EngineError as error:
        return fail(str(error))
    note_environment(client.environment_differs)
    try:
        return await work(client)
    except EngineError as error:
        return fail(str(error))
    finally:
        await client.close()


def environment_note(differing: list[str]) -> str:
    """What to say when the running service reads other values of some variables than this
    shell has; empty when none differ."""
    if not differing:
        return ""
    return (
        f"the running service has other values of {', '.join(differing)} than this shell: "
        "`taskyard serve stop` so the next command starts one with yours"
    )


def note_environment(differing: list[str]) -> None:
    """Print the environment note on stderr, when there is one."""
    if note := environment_note(differing):
        print(f"taskyard: note: {note}", file=sys.stderr)


def ask_service(method: str, **args: Any) -> Any:
    """One call to the service without asyncio; when none runs, it is started first. Raises
    the call's EngineError."""
    try:
        return call_once(default_paths(), method, **args)
    except NotRunning:
        import asyncio

        return asyncio.run(_ask_started(method, args))


async def _ask_started(method: str, args: dict[str, Any]) -> Any:
    from engine.service.client import ServiceClient

    client = await ServiceClient.connect()
    try:
        return await client.call(method, **args)
    finally:
        await client.close()


def print_json(data: Any) -> None:
    """One line of JSON on stdout, every control character in it escaped."""
    sys.stdout.write(json_text(data) + "\n")
    sys.stdout.flush()


def first_line(text: str, width: int) -> str:
    lines = plain(text).strip().splitlines()
    line = lines[0] if lines else ""
    return line if len(line) <= width else line[: width - 1] + "…"


def command_line(argv: list[str], width: int = 120) -> str:
    """A command on one line, shell-quoted, shortened to width."""
    return one_line(shlex.join(argv), width)


def one_line(text: str, width: int) -> str:
    """Text from a task made safe, its newlines shown as ⏎, shortened to width."""
    line = plain(text).replace("\n", " ⏎ ")
    return line if len(line) <= width else line[: width - 1] + "…"


def plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def add_attempt_argument(parser: argparse.ArgumentParser) -> None:
    """`--attempt K`: act on attempt K of a best-of-N task; read it back with `chosen_attempt`."""
    parser.add_argument(
        "--attempt",
        type=int,
        metavar="K",
        help="attempt K of a task run with --attempts (default: the task named)",
    )


async def chosen_attempt(client: ServiceClient, args: argparse.Namespace) -> TaskRecord:
    """The task `args.task`, or its attempt `args.attempt` when given."""
    return await client.attempt(args.task, args.attempt)


def absolute_path(path: str) -> str:
    """A local path as the service must get it: its cwd is not this command's."""
    return str(Path(path).expanduser().resolve())
