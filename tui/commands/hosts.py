"""`taskyard hosts`: the Docker hosts with state, load and capacity; `hosts check NAME`."""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
from typing import TYPE_CHECKING

from tui.commands.common import print_json, with_client

if TYPE_CHECKING:
    from engine.service.client import ServiceClient

STATE_MARKS = {"connected": "●", "reconnecting": "◌", "connecting": "◌", "down": "✗", "idle": "·"}


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "hosts", help="list Docker hosts: state, running and queued tasks, capacity"
    )
    parser.add_argument("--json", action="store_true", help="one JSON object per host")
    parser.set_defaults(handler=main)
    actions = parser.add_subparsers(metavar="ACTION")
    check = actions.add_parser("check", help="check a host: SSH, Docker and the sandbox image")
    check.add_argument("name", help="host name, as `taskyard hosts` lists it")
    check.set_defaults(handler=main_check)


def main(args: argparse.Namespace) -> int:
    return asyncio.run(with_client(lambda client: list_hosts(client, args.json)))


def main_check(args: argparse.Namespace) -> int:
    return asyncio.run(with_client(lambda client: check(client, args.name)))


async def list_hosts(client: ServiceClient, as_json: bool) -> int:
    statuses = await client.host_statuses()
    if as_json:
        for status in statuses:
            print_json(dataclasses.asdict(status))
        return 0
    print(f"{'HOST':<16}{'STATE':<15}{'RUNNING':>8}{'QUEUED':>8}{'MAX':>5}  ADDRESS")
    for status in statuses:
        state = f"{STATE_MARKS.get(status.state, '?')} {status.state}"
        print(
            f"{status.name:<16}{state:<15}{status.running:>8}{status.queued:>8}"
            f"{status.max_tasks:>5}  {status.address} ({status.origin})"
        )
        if status.error:
            print(f"{'':<16}{status.error}")
    return 0


async def check(client: ServiceClient, name: str) -> int:
    checks = await client.check_host(name)
    for step in checks:
        print(f"{'✓' if step.ok else '✗'} {step.step:<14} {step.detail}")
    return 0 if all(step.ok for step in checks) else 1
