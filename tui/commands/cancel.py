"""`taskyard cancel TASK`: cancel a running task in the service."""

from __future__ import annotations

import argparse
import asyncio
from typing import TYPE_CHECKING

from engine.views import ACTIVE
from tui.commands.common import fail, with_client

if TYPE_CHECKING:
    from engine.service.client import ServiceClient


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("cancel", help="cancel a running task")
    parser.add_argument("task", help="task id (a unique prefix is enough)")
    parser.set_defaults(handler=main)


def main(args: argparse.Namespace) -> int:
    return asyncio.run(with_client(lambda client: cancel(client, args.task)))


async def cancel(client: ServiceClient, task_id: str) -> int:
    """Cancel the task; 1 when it is not running."""
    task = await client.task(task_id)
    if task.status not in ACTIVE:
        return fail(f"task {task.id} is not running: it is {task.status}", code=1)
    await client.cancel(task.id)
    print(f"cancelled task {task.id}")
    return 0
