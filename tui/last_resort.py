"""How the `taskyard` command ends when a command did not: a closed pipe, an internal error."""

from __future__ import annotations

import os
import sys
import time
import traceback
from pathlib import Path

from engine.paths import default_paths

BROKEN_PIPE_EXIT = 141
"""The exit code of a command whose output pipe was closed (128 + SIGPIPE), as git's."""
STDOUT_FD = 1
INTERNAL_ERROR_EXIT = 1
INTERNAL_ERROR_LOG = "internal-errors.log"


def end_quietly_on_broken_pipe() -> int:
    """Point standard output at devnull, so nothing more is written to the closed pipe and
    Python's flush at exit stays quiet; the exit code of a broken pipe."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, STDOUT_FD)
    return BROKEN_PIPE_EXIT


def report_internal_error(error: BaseException) -> int:
    """One line on stderr naming the error and the file its traceback went to."""
    try:
        where = f"details in {write_internal_error(error)}"
    except OSError as log_error:
        where = f"no details written: {log_error}"
    print(f"taskyard: internal error: {error!r} ({where})", file=sys.stderr)
    return INTERNAL_ERROR_EXIT


def write_internal_error(error: BaseException) -> Path:
    """Append the error's traceback, with the time, to the log in the state dir."""
    path = default_paths().state_dir / INTERNAL_ERROR_LOG
    path.parent.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    details = "".join(traceback.format_exception(error))
    with path.open("a", encoding="utf-8") as log:
        log.write(f"--- {stamp}\n{details}\n")
    return path
