"""`taskyard gc`: remove the containers, logs and bundles finished tasks no longer need."""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import TYPE_CHECKING

from tui.commands.common import with_client

if TYPE_CHECKING:
    from engine.service.client import ServiceClient
    from engine.views import ContainerRemoval, FileRemoval, GcReport


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "gc",
        help="remove containers of old, archived and unknown tasks on every reachable host",
        description="Remove, on every reachable host, the containers of tasks that ended more "
        "than [gc] keep_hours ago, of archived tasks, and of no task in this store. Active "
        "tasks are never touched.",
    )
    parser.add_argument(
        "--dry-run", action="store_true", help="print what would be removed; remove nothing"
    )
    parser.add_argument(
        "--all",
        action="store_true",
        help="also remove the logs and result bundles of archived tasks",
    )
    parser.set_defaults(handler=main)


def main(args: argparse.Namespace) -> int:
    return asyncio.run(with_client(lambda client: collect(client, args.dry_run, args.all)))


async def collect(client: ServiceClient, dry_run: bool, with_files: bool) -> int:
    report = await client.collect_garbage(dry_run, with_files)
    verb = "would remove" if dry_run else "removed"
    for container in report.containers:
        print(f"{verb} {container_line(container)}")
    for file in report.files:
        print(f"{verb} {file_line(file)}")
    print(f"{'would free' if dry_run else 'freed'} {size_text(report.freed)}")
    print_problems(report)
    return 1 if report.failures else 0


def container_line(container: ContainerRemoval) -> str:
    """host, short id, task (or orphan), reason and size of one container."""
    owner = "orphan" if container.orphan else container.task_id
    return (
        f"container {container.host} {container.container_id[:12]} {owner} "
        f"({container.reason}) {size_text(container.size)}"
    )


def file_line(file: FileRemoval) -> str:
    """The kind, task, path and size of one removed file or directory."""
    return f"{file.kind} of {file.task_id} {file.path} {size_text(file.size)}"


def print_problems(report: GcReport) -> None:
    """Hosts skipped and removals that failed, on stderr."""
    for host in report.skipped_hosts:
        print(f"taskyard: skipped host {host.name}: {host.reason}", file=sys.stderr)
    for failure in report.failures:
        print(f"taskyard: could not remove {failure}", file=sys.stderr)


def size_text(size: int) -> str:
    """A byte count for people: 512 B, 4.0 KiB, 123.4 MiB, 2.1 GiB."""
    for unit, scale in (("GiB", 1024**3), ("MiB", 1024**2), ("KiB", 1024)):
        if size >= scale:
            return f"{size / scale:.1f} {unit}"
    return f"{size} B"
