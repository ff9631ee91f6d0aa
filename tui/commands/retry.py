"""`taskyard retry TASK`: run a task's request again as a new task; print its id."""

from __future__ import annotations

import argparse
import asyncio
from typing import TYPE_CHECKING

from tui.commands.common import with_client

if TYPE_CHECKING:
    from engine.service.client import ServiceClient


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "retry",
        help="run a task's request again as a new task and print its id",
        description="Run a task's prompt, repository and environment again as a new task in "
        "the service, and print the new task's id (`taskyard logs -f ID` follows it).",
    )
    parser.add_argument("task", help="task id (a unique prefix is enough)")
    parser.set_defaults(handler=main)


def main(args: argparse.Namespace) -> int:
    return asyncio.run(with_client(lambda client: retry(client, args.task)))


async def retry(client: ServiceClient, task_id: str) -> int:
    task = await client.task(task_id)
    print((await client.retry(task.id)).id)
    return 0
