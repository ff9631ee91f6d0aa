"""The `taskyard` command: the plain subcommands, all on the engine's public API."""

from __future__ import annotations

import argparse
import sys

from tui.commands import apply, apply_patch, image, run, show, tasks

SUBCOMMANDS = (run, tasks, show, apply, image, apply_patch)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="taskyard",
        description="Run coding agents on tasks, each in its own Docker container.",
    )
    subparsers = parser.add_subparsers(metavar="COMMAND")
    for module in SUBCOMMANDS:
        module.register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    handler = getattr(args, "handler", None)
    if handler is None:
        parser.print_help()
        return 0
    try:
        return int(handler(args))
    except KeyboardInterrupt:
        print("taskyard: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
