"""Editing text in the person's editor: $VISUAL, else $EDITOR, else vi."""

from __future__ import annotations

import os
import shlex
import subprocess
import tempfile
from pathlib import Path


class EditorError(Exception):
    """The editor could not be started or did not finish cleanly."""


def editor_command() -> list[str]:
    """The editor as argv, from $VISUAL or $EDITOR (which may carry arguments), else vi."""
    return shlex.split(os.environ.get("VISUAL") or os.environ.get("EDITOR") or "vi") or ["vi"]


def edit_in_file(text: str, suffix: str = ".patch") -> Path:
    """Write `text` to a new temporary file, open it in the editor and return the file; the
    caller reads it and removes it (or keeps it, so an edit is never lost)."""
    handle, name = tempfile.mkstemp(prefix="taskyard-", suffix=suffix)
    path = Path(name)
    with os.fdopen(handle, "wb") as file:
        file.write(text.encode("utf-8", "surrogateescape"))
    run_editor(path)
    return path


def run_editor(path: Path) -> None:
    """Open `path` in the editor and wait for it; EditorError when it cannot start or fails."""
    try:
        command = [*editor_command(), str(path)]
    except ValueError as error:
        raise EditorError(f"$VISUAL or $EDITOR is not a command line: {error}") from None
    try:
        done = subprocess.run(command, check=False)
    except OSError as error:
        raise EditorError(f"cannot start the editor {command[0]!r}: {error.strerror}") from None
    if done.returncode != 0:
        raise EditorError(f"the editor {command[0]!r} exited with status {done.returncode}")


def read_edited(path: Path) -> str:
    return path.read_bytes().decode("utf-8", "surrogateescape")
