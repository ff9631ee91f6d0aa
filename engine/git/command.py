"""Every git command taskyard runs on the host goes through here: one environment in which git
never waits for anyone, one error that carries git's most telling line, and the decoding each
use needs (text for names, shas and messages; byte-exact text for paths and diffs).

Functions block: run them in a thread. Git inside a sandbox runs there, not here.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TypedDict, Unpack

NEVER_ASK = {
    "GIT_TERMINAL_PROMPT": "0",
    "GIT_ASKPASS": "",
    "SSH_ASKPASS_REQUIRE": "never",
    "GCM_INTERACTIVE": "never",
}
"""No prompt for a user name, password or passphrase: not on a terminal, not through an askpass
program (an empty GIT_ASKPASS sets core.askPass and SSH_ASKPASS aside too), not in a window of
Git Credential Manager. Credential helpers and SSH agents still answer."""

GIT_ENV = {**NEVER_ASK, "LC_ALL": "C", "GIT_LITERAL_PATHSPECS": "1"}
"""What every git command runs with: no prompt, messages in English (the summaries read them),
and a path given is that path, never a pattern."""

REPOSITORY_VARIABLES = frozenset(
    {
        "GIT_DIR",
        "GIT_WORK_TREE",
        "GIT_IMPLICIT_WORK_TREE",
        "GIT_COMMON_DIR",
        "GIT_INDEX_FILE",
        "GIT_OBJECT_DIRECTORY",
        "GIT_ALTERNATE_OBJECT_DIRECTORIES",
        "GIT_GRAFT_FILE",
        "GIT_NO_REPLACE_OBJECTS",
        "GIT_REPLACE_REF_BASE",
        "GIT_SHALLOW_FILE",
        "GIT_PREFIX",
        "GIT_INTERNAL_SUPER_PREFIX",
    }
)
"""Inherited variables that would point git at another repository, index or object store than
the one it runs in (`git rev-parse --local-env-vars`, config aside): dropped, so a command acts
on its `cwd` and the `index` it is given."""

_GENERIC_ERRORS = ("Could not read from remote repository", "Please make sure", "and the repo")


class GitError(Exception):
    """A git operation failed; the message says what and what to do."""


class GitFailed(GitError):
    """A git command exited with an error. The message names the command, where it ran and the
    most telling line of its stderr (`summary`); `stderr` holds all of it."""

    def __init__(self, command: str, cwd: Path | None, stderr: str) -> None:
        self.command = command
        self.cwd = cwd
        self.stderr = stderr
        self.summary = summarise(stderr)
        where = "" if cwd is None else f" in {cwd}"
        super().__init__(f"git {command} failed{where}: {self.summary}")


class GitOptions(TypedDict, total=False):
    """How one git command runs, beyond its arguments and directory."""

    index: Path | None
    """A temporary index (GIT_INDEX_FILE) instead of the repository's own (None)."""
    env: Mapping[str, str]
    """Variables set on top of GIT_ENV, e.g. a fallback identity."""
    stdin: bytes
    """What the command reads; without it, its stdin is empty (/dev/null)."""


def summarise(stderr: str) -> str:
    """The most telling line of git's stderr, without git's generic advice."""
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    telling = [line for line in lines if not any(text in line for text in _GENERIC_ERRORS)]
    for line in telling:
        if line.startswith(("fatal: ", "error: ")):
            return line.split(": ", 1)[1]
    return (telling or lines or ["git failed"])[0]


def git_bytes(args: Sequence[str], cwd: Path | None = None, **options: Unpack[GitOptions]) -> bytes:
    """The stdout of `git ARGS` run in `cwd`, in its own session (no terminal to prompt on) and
    GIT_ENV. GitFailed when it exits with an error; GitError when git cannot be run at all."""
    stdin = options.get("stdin")
    try:
        done = subprocess.run(
            ["git", *args],
            cwd=cwd,
            env=_environment(options),
            input=stdin,
            stdin=subprocess.DEVNULL if stdin is None else None,
            capture_output=True,
            check=False,
            start_new_session=True,
        )
    except OSError as error:
        raise _cannot_run(error, cwd) from None
    if done.returncode != 0:
        stderr = done.stderr.decode("utf-8", errors="replace")
        raise GitFailed(_subcommand(args), cwd, stderr)
    return done.stdout


def git_text(args: Sequence[str], cwd: Path | None = None, **options: Unpack[GitOptions]) -> str:
    """git_bytes as text for names, shas and messages: bytes that are not UTF-8 become U+FFFD,
    and the trailing newline is dropped."""
    return git_bytes(args, cwd, **options).decode("utf-8", errors="replace").rstrip("\n")


def git_exact(args: Sequence[str], cwd: Path | None = None, **options: Unpack[GitOptions]) -> str:
    """git_bytes as text for paths, diffs and file content, all of it: bytes that are not UTF-8
    survive as surrogate escapes, so the text encodes back to the very same bytes."""
    return git_bytes(args, cwd, **options).decode("utf-8", errors="surrogateescape")


def git_listing(
    args: Sequence[str], cwd: Path | None = None, **options: Unpack[GitOptions]
) -> list[str]:
    """The entries of a NUL-separated (`-z`) listing, byte-exact as git_exact makes them."""
    return [entry for entry in git_exact(args, cwd, **options).split("\0") if entry]


def _environment(options: GitOptions) -> dict[str, str]:
    env = {name: value for name, value in os.environ.items() if name not in REPOSITORY_VARIABLES}
    env.update(GIT_ENV)
    env.update(options.get("env", {}))
    index = options.get("index")
    if index is not None:
        env["GIT_INDEX_FILE"] = str(index)
    return env


def _subcommand(args: Sequence[str]) -> str:
    """The git command `args` run, past global options such as `-c name=value`."""
    words = iter(args)
    for word in words:
        if word in ("-c", "-C"):
            next(words, None)
        elif not word.startswith("-"):
            return word
    return "(no command)"


def _cannot_run(error: OSError, cwd: Path | None) -> GitError:
    if isinstance(error, FileNotFoundError) and error.filename == "git":
        return GitError("git is not installed or not on PATH")
    where = "" if cwd is None else f" in {cwd}"
    return GitError(f"cannot run git{where}: {error.strerror}")
