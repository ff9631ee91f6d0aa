"""`taskyard archive TASK [--undo]`: hide a task from `taskyard tasks` and the board, or bring
it back."""

from __future__ import annotations

import argparse
import asyncio
from typing import TYPE_CHECKING

from tui.commands.common import with_client

if TYPE_CHECKING:
    from engine.service.client import ServiceClient


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "archive", help="hide a task from the task list (`tasks --all` still shows it)"
    )
    parser.add_argument("task", help="task id (a unique prefix is enough)")
    parser.add_argument("--undo", action="store_true", help="bring an archived task back")
    parser.set_defaults(handler=main)


def main(args: argparse.Namespace) -> int:
    return asyncio.run(with_client(lambda client: archive(client, args.task, not args.undo)))


async def archive(client: ServiceClient, task_id: str, archived: bool) -> int:
    task = await client.task(task_id)
    await client.archive(task.id, archived)
    print(f"archived task {task.id}" if archived else f"task {task.id} is back in the list")
    return 0
