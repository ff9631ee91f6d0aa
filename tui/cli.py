"""The `taskyard` command: the board with no arguments, else one of the plain subcommands.

Only the module of the command named is imported, so a command that talks to the service loads
no more than it needs.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

from tui.commands.common import fail
from tui.last_resort import end_quietly_on_broken_pipe, report_internal_error
from tui.present import terminal_output

COMMANDS = {
    "demo": "demo",
    "run": "run",
    "followup": "followup",
    "logs": "logs",
    "tasks": "tasks",
    "show": "show",
    "cancel": "cancel",
    "retry": "retry",
    "archive": "archive",
    "apply": "apply",
    "pr": "pr",
    "hosts": "hosts",
    "gc": "gc",
    "serve": "serve",
    "image": "image",
    "doctor": "doctor",
    "config": "config",
    "completion": "completion",
    "apply-patch": "apply_patch",
}
"""Each subcommand's module in tui.commands, in the order help lists them."""


def command_modules(argv: list[str]) -> list[ModuleType]:
    """The module of the first subcommand argv names, or all of them (for help and errors)."""
    named = [COMMANDS[arg] for arg in argv if arg in COMMANDS][:1] or list(COMMANDS.values())
    return [importlib.import_module(f"tui.commands.{name}") for name in named]


class VersionAction(argparse.Action):
    """`--version`: the installed package's version, looked up only when asked for."""

    def __init__(self, option_strings: list[str], dest: str, **kwargs: Any) -> None:
        super().__init__(option_strings, dest, nargs=0, **kwargs)

    def __call__(self, parser: argparse.ArgumentParser, *args: Any) -> None:
        from importlib.metadata import PackageNotFoundError, version

        try:
            print(f"taskyard {version('taskyard')}")
        except PackageNotFoundError:
            print("taskyard (version unknown: not installed as a package)")
        parser.exit()


def build_parser(argv: list[str] | None = None) -> argparse.ArgumentParser:
    """The parser for argv: the named subcommand's, or every subcommand's when none is named."""
    parser = argparse.ArgumentParser(
        prog="taskyard",
        description="Run coding agents on tasks, each in its own Docker container. "
        "With no command, open the board.",
    )
    parser.add_argument("--version", action=VersionAction, help="print taskyard's version and exit")
    parser.add_argument(
        "--repo",
        dest="board_repo",
        default=".",
        help="repository the board starts new tasks in (default: .)",
    )
    subparsers = parser.add_subparsers(metavar="COMMAND")
    for module in command_modules(sys.argv[1:] if argv is None else argv):
        module.register(subparsers)
    return parser


@terminal_output()
def main(argv: list[str] | None = None) -> int:
    """Entry point of the console script; all it prints goes through `terminal_output`."""
    parser = build_parser(argv)
    args = parser.parse_args(argv)
    handler = getattr(args, "handler", None)
    try:
        if handler is None:
            return open_board(Path(args.board_repo))
        code = int(handler(args))
        sys.stdout.flush()
        return code
    except KeyboardInterrupt:
        print("taskyard: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return end_quietly_on_broken_pipe()
    except Exception as error:
        return report_internal_error(error)


def open_board(repo: Path) -> int:
    """Run the full-screen board for the repository at `repo`."""
    repo = repo.expanduser()
    if not repo.is_dir():
        return fail(f"{repo} is not a directory: pass --repo PATH of a repository")
    import asyncio

    from tui.app import run_board

    resolved = repo.resolve()
    return asyncio.run(run_board(resolved))


if __name__ == "__main__":
    sys.exit(main())
