"""`taskyard apply TASK`: bring a task's result home as a new branch."""

from __future__ import annotations

import argparse
import asyncio

from engine.api import Engine
from tui.commands.common import add_attempt_argument, chosen_attempt, with_engine


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "apply",
        help="create a local branch with the task's commits (working tree untouched)",
    )
    parser.add_argument("task", help="task id (a unique prefix is enough)")
    parser.add_argument("--repo", help="local repository (default: the task's)")
    parser.add_argument("--branch", help="new branch name (default: taskyard/<task id>)")
    add_attempt_argument(parser)
    parser.set_defaults(handler=main)


def main(args: argparse.Namespace) -> int:
    return asyncio.run(
        with_engine(
            lambda engine: apply_task(
                engine, chosen_attempt(engine, args).id, args.repo, args.branch
            )
        )
    )


async def apply_task(engine: Engine, task_id: str, repo: str | None, branch: str | None) -> int:
    new_branch, sha = await engine.apply(task_id, repo, branch)
    print(f"created branch {new_branch} at {sha[:12]}; your working tree was not touched")
    print(f"next: git switch {new_branch}   or   git merge {new_branch}")
    return 0
