"""`taskyard apply-patch`: apply a Codex `*** Begin Patch` patch from stdin under the cwd."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from engine.patch import PatchError, apply_patch_to_directory

COMMAND_NAME = "apply-patch"
ERROR_PREFIX = f"taskyard {COMMAND_NAME}: "


def register(
    subparsers: argparse._SubParsersAction[argparse.ArgumentParser],
) -> argparse.ArgumentParser:
    """Add the `apply-patch` subcommand to a `taskyard` argument parser."""
    parser = subparsers.add_parser(
        COMMAND_NAME,
        help="apply a Codex '*** Begin Patch' patch read from stdin to the current directory",
        description=(
            "Read a '*** Begin Patch' patch (the format of OpenAI Codex's apply_patch tool) "
            "from stdin and apply it under the current directory. Prints the changed files on "
            "success; on failure prints the reason to stderr and exits with status 1."
        ),
    )
    parser.set_defaults(handler=run)
    return parser


def run(args: argparse.Namespace) -> int:
    """Apply the patch on stdin; return 0 on success, 1 with a message on stderr otherwise."""
    try:
        patch = read_patch_from_stdin()
        result = apply_patch_to_directory(patch, Path.cwd())
    except PatchError as error:
        print(ERROR_PREFIX + error.message, file=sys.stderr)
        return 1
    print(result.summary)
    return 0


def read_patch_from_stdin() -> str:
    """Read stdin as UTF-8 text; raise PatchError if it is not text or holds nothing."""
    if sys.stdin is None:
        raise PatchError("no stdin to read the patch from")
    try:
        data = sys.stdin.buffer.read()
    except OSError as error:
        raise PatchError(f"cannot read the patch from stdin: {error}") from error
    try:
        patch = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise PatchError(
            f"the patch on stdin is not valid UTF-8 (byte {error.start}); send it as UTF-8 text"
        ) from error
    if not patch.strip():
        raise PatchError("no patch on stdin; pipe a '*** Begin Patch' patch into this command")
    return patch
