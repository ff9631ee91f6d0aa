"""`taskyard show TASK`: a task's result, the commands it ran, its citations and diff."""

from __future__ import annotations

import argparse
import asyncio
from typing import TYPE_CHECKING

from engine.views import Finding, TaskStatus, diff_stat
from tui.colour import paged, write, write_diff
from tui.commands.common import command_line, print_json, with_client
from tui.commands.evidence_text import print_checks, print_citations, print_warning
from tui.commands.ranking import print_ranking
from tui.present import reveal

if TYPE_CHECKING:
    from engine.service.client import ServiceClient
    from engine.views import CommandRecord, Evidence, TaskRecord


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("show", help="show a task's result and evidence")
    parser.add_argument("task", help="task id (a unique prefix is enough)")
    parser.add_argument("--json", action="store_true", help="one JSON object on stdout")
    parser.set_defaults(handler=main)


def main(args: argparse.Namespace) -> int:
    return asyncio.run(with_client(lambda client: show_task(client, args.task, args.json)))


async def show_task(client: ServiceClient, task_id: str, as_json: bool) -> int:
    record = await client.task(task_id)
    commands = await client.commands(record.id)
    evidence = await client.evidence(record.id)
    ranked = await client.ranked_attempts(record.id)
    if as_json:
        listed = [c.to_dict() for c in commands]
        attempts = [entry.to_dict() for entry in ranked] if len(ranked) > 1 else []
        evidence_data = evidence.to_dict()
        print_json(
            {
                **record.to_dict(),
                "commands": listed,
                "evidence": evidence_data,
                "attempts": attempts,
            }
        )
        return 0
    with paged():
        print_header(record)
        if len(ranked) > 1:
            print_ranking(ranked)
        print_commands(commands)
        print_checks(evidence)
        print_answer(record, evidence)
        print_findings(record)
        print_diff(record)
    return 0


STATUS_STYLES = {TaskStatus.READY: "green", TaskStatus.FAILED: "red", TaskStatus.CANCELLED: "dim"}


def print_header(record: TaskRecord) -> None:
    write(f"task {record.id}  ", "bold")
    write(str(record.status), STATUS_STYLES.get(record.status, "yellow"))
    print(f"  ({record.mode} mode, env {record.environment})")
    print(f"repo   {record.repo} @ {record.ref or 'HEAD'} ({record.base_sha[:12]})")
    if record.branch:
        print(f"branch {record.branch} {record.head_sha[:12]}")
    if record.pr_url:
        print(f"pr     #{record.pr_number} {record.pr_url}")
    print(f"image  {record.image}")
    if record.usage:
        usage = record.usage
        print(f"tokens {usage.get('input_tokens', 0)} in, {usage.get('output_tokens', 0)} out")
    if record.error:
        print(f"error  {record.error}")
    print(f"\nprompt\n  {record.prompt.strip()}")


def print_commands(commands: list[CommandRecord]) -> None:
    if not commands:
        return
    print("\ncommands")
    for command in commands:
        if command.timed_out:
            state = "timeout"
        elif command.exit_code is None:
            state = "—"
        else:
            state = f"exit {command.exit_code}"
        line = command_line(command.command, 90)
        print(f"  {command.chunk_id}  {state:<8} {command.phase:<8} {line}")


def print_answer(record: TaskRecord, evidence: Evidence) -> None:
    print_warning(evidence)
    if record.final_message:
        print(f"\nanswer\n{record.final_message.strip()}")
    print_citations(record.citations, evidence)


def print_findings(record: TaskRecord) -> None:
    """What the host found in the result's commits: secrets refuse it, the rest needs a say."""
    if not record.findings:
        return
    print("\nfindings (a secret refuses the result; see `taskyard apply --help` for the rest)")
    for item in record.findings:
        kind = "secret" if item.get("kind") == "secret" else "unsafe"
        print(f"  {kind:<7} {Finding.from_dict(item)}")


def print_diff(record: TaskRecord) -> None:
    stats = diff_stat(record.diff)
    if not stats:
        return
    print("\nfiles")
    for stat in stats:
        counts = "binary" if stat.binary else f"+{stat.added} -{stat.removed}"
        print(f"  {counts:<12} {stat.path}")
    print("\ndiff")
    write_diff(reveal(record.diff))
