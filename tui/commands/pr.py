"""`taskyard pr TASK [--draft]`: push the task's branch and open (or update) its pull request."""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import TYPE_CHECKING

from engine.views import UnsafeResult
from tui.commands.common import add_attempt_argument, chosen_attempt, fail, with_client

if TYPE_CHECKING:
    from engine.service.client import ServiceClient
    from engine.views import Delivery


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "pr",
        help="push the task's branch and open a pull request (GitHub) or merge request (GitLab)",
        description="Push the task's branch and open (or update) its pull request. Every commit "
        "of the branch is checked first: a commit flagged unsafe refuses the push (push the "
        "net change as one commit with --squash), and a secret value anywhere always does.",
    )
    parser.add_argument("task", help="task id (a unique prefix is enough)")
    parser.add_argument("--draft", action="store_true", help="open it as a draft")
    parser.add_argument(
        "--squash",
        action="store_true",
        help="push one new commit with the net change on the base instead of the task's commits",
    )
    parser.add_argument(
        "--allow-unsafe",
        action="store_true",
        help="push a result flagged as unsafe (hooks, writes into .git, symlinks out, ...)",
    )
    add_attempt_argument(parser)
    parser.set_defaults(handler=main)


def main(args: argparse.Namespace) -> int:
    return asyncio.run(with_client(lambda client: open_pull_request(client, args)))


async def open_pull_request(client: ServiceClient, args: argparse.Namespace) -> int:
    task = await chosen_attempt(client, args)
    try:
        delivery = await client.open_pull_request(
            task.id, args.draft, squash=args.squash, allow_unsafe=args.allow_unsafe
        )
    except UnsafeResult as error:
        return fail(f"{error}\n{push_advice(error)}", code=1)
    for finding in delivery.findings:
        print(f"taskyard: pushed although unsafe: {finding}", file=sys.stderr)
    squashed = " (the net change as one commit)" if args.squash else ""
    pushed = f"pushed {delivery.branch} to {delivery.remote}"
    print(f"{pushed} at {delivery.head_sha[:12]}{squashed}")
    print(describe(delivery))
    return 0


def push_advice(error: UnsafeResult) -> str:
    """What the person can do about a result refused as unsafe for a pull request."""
    look = f"look at it with `taskyard show {error.task_id}`"
    if any(finding.commit for finding in error.findings):
        return (
            f"{look}; to leave the task's commits behind, push the net change as one commit "
            "with --squash, or push anyway with --allow-unsafe"
        )
    return f"{look}; push anyway with --allow-unsafe"


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
