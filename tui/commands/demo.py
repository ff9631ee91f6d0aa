"""`taskyard demo`: the board on a sample repository in a fresh directory, its tasks run by the
offline demo model in real containers, with the demo's own state and service. No key, no
network; it needs Docker, and builds the sandbox image when it is missing."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from engine.errors import EngineError
from tui.commands.common import fail
from tui.demo import SAMPLE_TASKS, DemoError, DemoPlace, farewell, make_place

if TYPE_CHECKING:
    from engine.service.client import ServiceClient

MODEL_VARIABLES = ("OPENAI_API_KEY", "OPENAI_BASE_URL", "TASKYARD_MODEL", "TASKYARD_WIRE_API")
"""What the demo's service must not read: the demo model needs no key, and no variable may
choose another model."""
IMAGE_STEP = "sandbox image"


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "demo",
        help="try taskyard on a sample repository with an offline demo model (no API key)",
    )
    parser.add_argument(
        "--dir",
        type=Path,
        help="a new or empty directory for the demo (default: a new temporary directory)",
    )
    parser.set_defaults(handler=main)


def main(args: argparse.Namespace) -> int:
    try:
        place = make_place(args.dir)
    except (DemoError, OSError) as error:
        return fail(str(error))
    isolate(place)
    print(f"taskyard demo: the sample repository is {place.repo}")
    sys.stdout.flush()
    return asyncio.run(run_demo(place))


def isolate(place: DemoPlace) -> None:
    """The demo's service (started from this process) reads the demo's home, not the user's,
    and no model setting of the user's."""
    for name in MODEL_VARIABLES:
        os.environ.pop(name, None)
    os.environ["TASKYARD_HOME"] = str(place.home)


async def run_demo(place: DemoPlace) -> int:
    """Start the demo's service, make sure the image exists, start the sample tasks, run the
    board; when the person quits, end the demo's tasks and containers and say where its
    repository stays."""
    from engine.service.client import ServiceClient
    from tui.app import run_board

    try:
        client = await ServiceClient.connect(place.paths, name="demo")
    except EngineError as error:
        return fail(str(error))
    try:
        await ensure_image(client)
        await start_sample_tasks(client, place)
    except EngineError as error:
        with contextlib.suppress(EngineError):
            await client.stop()
        return fail(str(error))
    finally:
        await client.close()
    try:
        return await run_board(place.repo, place.paths)
    finally:
        await end_demo_service(place)
        print(farewell(place))


async def ensure_image(client: ServiceClient) -> None:
    """EngineError when Docker cannot be used; build the sandbox image, its output shown, when
    it is missing."""
    from tui.commands.image import build

    checks = await client.check_host("local")
    broken = [check for check in checks if not check.ok]
    if not broken:
        return
    if [check.step for check in broken] != [IMAGE_STEP]:
        raise EngineError(f"taskyard demo needs a running Docker engine: {broken[0].detail}")
    print("taskyard demo: building the sandbox image first (once, a few minutes)…")
    await build(client, None, "local")


async def start_sample_tasks(client: ServiceClient, place: DemoPlace) -> None:
    """Submit the demo's sample tasks on its repository."""
    from engine.views import TaskRequest

    for task in SAMPLE_TASKS:
        request = TaskRequest(
            prompt=task.prompt, repo=str(place.repo), mode=task.mode, attempts=task.attempts
        )
        await client.submit_attempts(request)


async def end_demo_service(place: DemoPlace) -> None:
    """Connect to the demo's service, if it still runs, and end the demo there."""
    from engine.service.client import ServiceClient

    try:
        client = await ServiceClient.connect(place.paths, start=False, name="demo")
    except EngineError:
        return
    try:
        await end_demo(client)
    finally:
        await client.close()


async def end_demo(client: ServiceClient) -> None:
    """Cancel what still runs, remove every container of the demo and stop its service."""
    print("taskyard demo: removing the demo's containers…")
    sys.stdout.flush()
    with contextlib.suppress(EngineError):
        for task in await client.tasks(include_archived=True):
            with contextlib.suppress(EngineError):
                await client.cancel(task.id)
            await client.archive(task.id)
        await client.collect_garbage()
        await client.stop()
