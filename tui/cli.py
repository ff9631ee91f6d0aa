"""The `taskyard` command: the board with no arguments, else one of the plain subcommands."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from tui.commands import apply, apply_patch, followup, gc, hosts, image, pr, run, show, tasks
from tui.commands.common import fail
from tui.last_resort import end_quietly_on_broken_pipe, report_internal_error
from tui.present import terminal_output

SUBCOMMANDS = (run, followup, tasks, show, apply, pr, hosts, image, gc, apply_patch)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="taskyard",
        description="Run coding agents on tasks, each in its own Docker container. "
        "With no command, open the board.",
    )
    parser.add_argument(
        "--repo",
        dest="board_repo",
        default=".",
        help="repository the board starts new tasks in (default: .)",
    )
    subparsers = parser.add_subparsers(metavar="COMMAND")
    for module in SUBCOMMANDS:
        module.register(subparsers)
    return parser


@terminal_output()
def main(argv: list[str] | None = None) -> int:
    """Entry point of the console script; all it prints goes through `terminal_output`."""
    parser = build_parser()
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
    from tui.app import run_board

    resolved = repo.resolve()
    return asyncio.run(run_board(resolved))


if __name__ == "__main__":
    sys.exit(main())
