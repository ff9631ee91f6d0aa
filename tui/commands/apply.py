"""`taskyard apply TASK`: accept a task's result, whole or in part, to a new branch or onto the
working tree."""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import TYPE_CHECKING

from engine.errors import EngineError
from engine.views import Accepted, AcceptRequest, Choice, UnsafeResult
from tui.commands.common import (
    absolute_path,
    add_attempt_argument,
    chosen_attempt,
    fail,
    plural,
    with_client,
)
from tui.editor import EditorError, edit_in_file, read_edited

if TYPE_CHECKING:
    from engine.service.client import ServiceClient


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "apply",
        help="accept a task's result (or chosen files and hunks) as a new local branch",
        description="Accept a task's result. By default the whole result becomes a new branch "
        "with the task's commits (accepting again after a follow-up moves it forward), and "
        "your working tree is not touched; every one of those "
        "commits is checked, and --squash makes one commit with the net change instead. Choose "
        "files with --path and hunks with --hunk; edit the patch first with --edit; apply it "
        "onto your working tree with --worktree (a 3-way merge that changes nothing on "
        "conflict). A result carrying a secret value is always refused.",
    )
    parser.add_argument("task", help="task id (a unique prefix is enough)")
    parser.add_argument(
        "--path",
        action="append",
        default=[],
        metavar="PATH",
        help="accept this file of the result (repeatable; exact paths as the diff names them)",
    )
    parser.add_argument(
        "--hunk",
        action="append",
        default=[],
        type=hunk_spec,
        metavar="PATH:N",
        help="accept hunk N (counted from 1) of PATH (repeatable)",
    )
    parser.add_argument(
        "--worktree",
        action="store_true",
        help="apply onto your working tree (uncommitted) instead of making a branch",
    )
    parser.add_argument("--edit", action="store_true", help="edit the patch in $EDITOR first")
    parser.add_argument(
        "--squash",
        action="store_true",
        help="make the whole result one new commit on the base instead of the task's commits",
    )
    parser.add_argument(
        "--allow-unsafe",
        action="store_true",
        help="accept a result flagged as unsafe (writes into .git, symlinks out, hooks, ...)",
    )
    parser.add_argument("--repo", help="local repository (default: the task's)")
    parser.add_argument(
        "--branch",
        help="branch name (default: taskyard/<task id>); one that exists moves forward when "
        "that is a fast-forward, e.g. after a follow-up",
    )
    add_attempt_argument(parser)
    parser.set_defaults(handler=main)


def hunk_spec(value: str) -> tuple[str, int]:
    """PATH:N as (path, n), for argparse."""
    path, _, number = value.rpartition(":")
    if not path or not number.isdigit() or int(number) < 1:
        raise argparse.ArgumentTypeError(f"{value!r} is not PATH:N (e.g. calc.py:2)")
    return path, int(number)


def main(args: argparse.Namespace) -> int:
    return asyncio.run(with_client(lambda client: apply_task(client, args)))


async def apply_task(client: ServiceClient, args: argparse.Namespace) -> int:
    if args.worktree and args.branch:
        return fail("--branch names a new branch; with --worktree no branch is made")
    if args.worktree and args.squash:
        return fail(
            "--squash makes one commit on a new branch; with --worktree nothing is committed"
        )
    choice = Choice(tuple(args.path), tuple(args.hunk))
    request = AcceptRequest(
        choice,
        onto_worktree=args.worktree,
        allow_unsafe=args.allow_unsafe,
        repo=None if args.repo is None else absolute_path(args.repo),
        branch=args.branch,
        squash=args.squash,
    )
    try:
        task_id = (await chosen_attempt(client, args)).id
        if args.edit:
            return await accept_edited(client, task_id, request)
        accepted = await client.accept(task_id, request)
    except UnsafeResult as error:
        return fail(f"{error}\n{unsafe_advice(error)}", code=1)
    except EngineError as error:
        return fail(str(error), code=1)
    report(accepted)
    return 0


def unsafe_advice(error: UnsafeResult) -> str:
    """What the person can do about a result refused as unsafe."""
    look = f"look at it with `taskyard show {error.task_id}`"
    if any(finding.commit for finding in error.findings):
        return (
            f"{look}; to leave the task's commits behind, take the net change as one commit "
            "with --squash, or accept anyway with --allow-unsafe"
        )
    return f"{look}; leave those files out with --path, or accept anyway with --allow-unsafe"


async def accept_edited(client: ServiceClient, task_id: str, request: AcceptRequest) -> int:
    """Open the chosen patch in the editor, then accept what the person saved."""
    patch = await client.chosen_patch(task_id, request.choice)
    try:
        path = edit_in_file(patch)
    except EditorError as error:
        return fail(str(error), code=1)
    edited = read_edited(path)
    if not edited.strip():
        path.unlink()
        return fail("the edited patch is empty: cancelled, nothing was accepted", code=1)
    edited_request = AcceptRequest(
        patch=edited,
        onto_worktree=request.onto_worktree,
        allow_unsafe=request.allow_unsafe,
        repo=request.repo,
        branch=request.branch,
    )
    try:
        accepted = await client.accept(task_id, edited_request)
    except EngineError as error:
        advice = unsafe_advice(error) if isinstance(error, UnsafeResult) else ""
        kept = f"your edited patch is kept in {path}"
        return fail("\n".join(filter(None, [str(error), advice, kept])), code=1)
    path.unlink()
    report(accepted)
    return 0


def describe(accepted: Accepted) -> str:
    """`2 hunks in 1 file (calc.py)`, `2 files (a.png, b.txt)` or `the whole result (3 files)`."""
    files = plural(len(accepted.files), "file")
    if accepted.whole:
        return f"the whole result ({files})"
    names = ", ".join(accepted.files)
    hunks = f"{plural(accepted.hunks, 'hunk')} in " if accepted.hunks else ""
    return f"{hunks}{files} ({names})"


def report(accepted: Accepted) -> None:
    for finding in accepted.findings:
        print(f"taskyard: accepted although unsafe: {finding}", file=sys.stderr)
    if accepted.target == "worktree":
        print(f"applied {describe(accepted)} onto your working tree in {accepted.repo}")
        print("nothing is staged or committed; new files are untracked")
        print("next: review with `git status` and `git diff`, then commit")
        return
    if accepted.squashed:
        what = f"the net change of {describe(accepted)} as one commit"
    else:
        what = "the task's commits" if accepted.whole else describe(accepted)
    branch, sha = accepted.branch, accepted.sha[:12]
    if accepted.moved:
        print(f"moved branch {branch} forward from {accepted.previous[:12]} to {sha} with {what}")
    elif accepted.previous:
        print(f"branch {branch} is already at {sha}: nothing new to accept")
    else:
        print(f"created branch {branch} at {sha} with {what}")
    print("your working tree was not touched")
    print(f"next: git switch {accepted.branch}   or   git merge {accepted.branch}")
