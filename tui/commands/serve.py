"""`taskyard serve`: the service in the foreground; `serve status` and `serve stop`."""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import datetime
import os
import sys
import time

from engine.paths import default_paths
from engine.service.client import (
    NotRunning,
    ServiceClient,
    ServiceError,
    service_command,
    service_pid,
)
from engine.views import ServiceStatus
from tui.commands.common import fail, print_json

STOP_TIMEOUT_SECONDS = 15.0


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "serve",
        help="run the service that owns every task, in the foreground",
        description="Run the service that owns this state dir's tasks, in the foreground. "
        "Every other command starts it in the background when none runs; it exits after "
        "[service] idle_minutes with no task and no client.",
    )
    parser.set_defaults(handler=main)
    actions = parser.add_subparsers(metavar="ACTION")
    status = actions.add_parser("status", help="the running service: pid, uptime, tasks")
    status.add_argument("--json", action="store_true", help="one JSON object on stdout")
    status.set_defaults(handler=main_status)
    stop = actions.add_parser("stop", help="stop the service; its running tasks are not cancelled")
    stop.set_defaults(handler=main_stop)


def main(args: argparse.Namespace) -> int:
    """Become the service process (`python -m engine.service`) for this state dir."""
    sys.stdout.flush()
    command = service_command(default_paths())
    os.execv(command[0], command)


def main_status(args: argparse.Namespace) -> int:
    return asyncio.run(show_status(args.json))


def main_stop(args: argparse.Namespace) -> int:
    return asyncio.run(stop())


async def running_status() -> tuple[ServiceClient, ServiceStatus] | None:
    """A client of the running service and its status; None when no service runs."""
    try:
        client = await ServiceClient.connect(start=False)
    except NotRunning:
        return None
    try:
        return client, await client.status()
    except BaseException:
        await client.close()
        raise


async def show_status(as_json: bool) -> int:
    """Print the running service's status; 1 when none runs."""
    try:
        running = await running_status()
    except ServiceError as error:
        return fail(str(error), code=1)
    if running is None:
        return fail(f"no taskyard service is running for {default_paths().state_dir}", code=1)
    client, status = running
    await client.close()
    if as_json:
        print_json(dataclasses.asdict(status))
        return 0
    tasks = ", ".join(status.active_tasks) or "none"
    print(f"pid      {status.pid}")
    print(f"uptime   {datetime.timedelta(seconds=int(status.uptime_seconds))}")
    print(f"socket   {status.socket}")
    print(f"tasks    {len(status.active_tasks)} running: {tasks}")
    print(f"clients  {status.clients} (this one included)")
    print(f"version  {status.version} (service protocol)")
    print(f"log      {status.log}")
    return 0


async def stop() -> int:
    """Stop the running service and wait until it has exited; its tasks go on."""
    try:
        running = await running_status()
    except ServiceError as error:
        return fail(str(error), code=1)
    if running is None:
        print(f"no taskyard service is running for {default_paths().state_dir}")
        return 0
    client, status = running
    try:
        await client.stop()
    except ServiceError:
        pass
    finally:
        await client.close()
    if not await stopped(time.monotonic() + STOP_TIMEOUT_SECONDS):
        return fail(f"the taskyard service (pid {status.pid}) is still running", code=1)
    print(f"stopped the taskyard service (pid {status.pid})")
    if status.active_tasks:
        print(
            f"its running tasks were not cancelled: {', '.join(status.active_tasks)} go on in "
            "their containers and the next service takes them up"
        )
    return 0


async def stopped(deadline: float) -> bool:
    """Whether the service has exited by the deadline."""
    while service_pid() is not None:
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.05)
    return True
