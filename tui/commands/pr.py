"""`taskyard pr TASK [--draft]`: push the task's branch and open (or update) its pull request."""

from __future__ import annotations

import argparse
import asyncio

from engine.api import Engine
from engine.delivery import Delivery
from tui.commands.common import add_attempt_argument, chosen_attempt, with_engine


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "pr",
        help="push the task's branch and open a pull request (GitHub) or merge request (GitLab)",
    )
    parser.add_argument("task", help="task id (a unique prefix is enough)")
    parser.add_argument("--draft", action="store_true", help="open it as a draft")
    add_attempt_argument(parser)
    parser.set_defaults(handler=main)


def main(args: argparse.Namespace) -> int:
    return asyncio.run(with_engine(lambda engine: open_pull_request(engine, args)))


async def open_pull_request(engine: Engine, args: argparse.Namespace) -> int:
    task = chosen_attempt(engine, args)
    delivery = await engine.open_pull_request(task.id, args.draft)
    print(f"pushed {delivery.branch} to {delivery.remote} at {delivery.head_sha[:12]}")
    print(describe(delivery))
    return 0


def describe(delivery: Delivery) -> str:
    """One line for people: what became of the pull request and where it is."""
    where = "pull request" if delivery.forge == "github" else "merge request"
    if delivery.action == "pushed" and delivery.number:
        return f"{where} #{delivery.number} not updated, {delivery.note}: {delivery.url}"
    if delivery.action == "pushed":
        return f"{delivery.note}\nopen the {where} here: {delivery.url}"
    state = f" ({delivery.state})" if delivery.state not in ("", "open") else ""
    line = f"{delivery.action} #{delivery.number}{state}: {delivery.url}"
    return f"{line}\n{delivery.note}" if delivery.note else line
