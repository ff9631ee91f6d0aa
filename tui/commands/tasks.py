"""`taskyard tasks`: list recorded tasks."""

from __future__ import annotations

import argparse
import time
from collections import Counter
from typing import TYPE_CHECKING

from engine.errors import EngineError
from engine.views import is_remote
from tui.commands.common import absolute_path, ask_service, fail, first_line, print_json

if TYPE_CHECKING:
    from engine.views import TaskRecord


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("tasks", help="list tasks")
    parser.add_argument("--all", action="store_true", help="include archived tasks")
    parser.add_argument("--json", action="store_true", help="a JSON array on stdout")
    parser.add_argument("--ids", action="store_true", help="only the ids, one per line")
    parser.add_argument(
        "--status", metavar="NAME[,NAME]", help="only tasks in these statuses, e.g. running,failed"
    )
    parser.add_argument("--repo", metavar="PATH|URL", help="only tasks on this repository")
    parser.add_argument("--limit", type=int, metavar="N", help="at most the N newest tasks")
    parser.set_defaults(handler=main)


def main(args: argparse.Namespace) -> int:
    try:
        records = ask_service(
            "tasks",
            include_archived=args.all,
            statuses=[name.strip() for name in args.status.split(",")] if args.status else None,
            repo=repository(args.repo),
            limit=args.limit,
        )
    except EngineError as error:
        return fail(str(error))
    if args.ids:
        print("\n".join(record.id for record in records), end="\n" if records else "")
        return 0
    return list_tasks(records, args.json)


def repository(repo: str | None) -> str | None:
    """The repository as the tasks record it: a URL as it is, a path made absolute."""
    if repo is None or is_remote(repo):
        return repo
    return absolute_path(repo)


def age(seconds: float) -> str:
    """A short age like 5s, 3m, 2h, 4d."""
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{int(seconds // size)}{unit}"
    return f"{int(seconds)}s"


def list_tasks(records: list[TaskRecord], as_json: bool) -> int:
    """Print the tasks newest first, or as a JSON array."""
    if as_json:
        print_json([summary(record) for record in records])
        return 0
    if not records:
        print('no tasks yet: start one with `taskyard run "PROMPT"`')
        return 0
    now = time.time()
    group_sizes = Counter(record.group for record in records)
    print(f"{'ID':<9} {'STATUS':<12} {'MODE':<5} {'ATTEMPT':<8}{'AGE':>4}  {'REPO@REF':<32} PROMPT")
    for record in records:
        where = f"{record.repo.rstrip('/').rsplit('/', 1)[-1]}@{record.ref or 'HEAD'}"
        attempt = attempt_label(record, group_sizes[record.group])
        print(
            f"{record.id:<9} {record.status:<12} {record.mode:<5} {attempt:<8}"
            f"{age(now - record.created):>4}  {where[:32]:<32} {first_line(record.prompt, 60)}"
        )
    return 0


def attempt_label(record: TaskRecord, group_size: int) -> str:
    """`2/3` for attempt 2 of a best-of-3 task; `—` for a task run once."""
    return f"{record.attempt}/{group_size}" if group_size > 1 else "—"


def summary(record: TaskRecord) -> dict[str, object]:
    """A task without its large fields (diff, final message)."""
    data = record.to_dict()
    return {key: value for key, value in data.items() if key not in ("diff", "final_message")}
