"""`taskyard followup TASK PROMPT`: a new turn of a finished task in its container and on its
branch, followed to its end like `taskyard run`."""

from __future__ import annotations

import argparse
import asyncio
import time
from typing import TYPE_CHECKING

from engine.views.events import PullRequestChanged
from tui.commands.common import with_client
from tui.commands.run import HumanPrinter, PrintEvent, follow_to_end, print_json_event

if TYPE_CHECKING:
    from engine.service.client import ServiceClient


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "followup", help="ask a finished task for more work, on the same branch"
    )
    parser.add_argument("task", help="task id (a unique prefix is enough)")
    parser.add_argument("prompt", help="what the agent should do next")
    parser.add_argument("--json", action="store_true", help="JSON Lines events on stdout")
    parser.set_defaults(handler=main)


def main(args: argparse.Namespace) -> int:
    printer = print_json_event if args.json else HumanPrinter().print
    return asyncio.run(
        with_client(lambda client: follow_up_task(client, args.task, args.prompt, printer))
    )


async def follow_up_task(
    client: ServiceClient, task_id: str, prompt: str, printer: PrintEvent
) -> int:
    """Start the follow-up turn and follow it to its end, then to the update of the task's pull
    request, if it has one; 0 when ready for review again."""
    task = await client.task(task_id)
    subscription = await client.subscribe(task.id)
    started = time.time()
    try:
        await client.follow_up(task.id, prompt)
    except BaseException:
        subscription.close()
        raise
    code = await follow_to_end(subscription, task.id, printer)
    await client.wait(task.id)
    for event in await client.events(task.id):
        if isinstance(event, PullRequestChanged) and event.ts >= started:
            printer(event)
    return code
