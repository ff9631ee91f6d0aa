"""What setup leaves behind, dealt with before the agent starts.

Setup runs with the secrets and a mark in its environment. Every process it started ends with a
restart of the sandbox (the kernel ends the container's whole process tree, double-forked and
`setsid` children included); then no process may carry the mark. The files it added or changed
in the repository are kept out of the agent's commit: untracked ones through the repository's
`.git/info/exclude`, tracked ones marked skip-worktree.
"""

from __future__ import annotations

import posixpath
import secrets
from dataclasses import dataclass

from sandboxes.base import Sandbox

CHECK_TIMEOUT = 60.0
SETUP_RUNNER = """\
script="$1"; out="$2"
if tail --version 2>/dev/null | grep -q GNU; then
  : > "$out"
  bash -e "$script" > "$out" 2>&1 &
  pid=$!
  tail -c +1 -s 0.1 -f --pid="$pid" "$out"
  wait "$pid"; status=$?
  rm -f "$out"
  exit "$status"
fi
exec bash -e "$script"
"""
"""Runs the setup script ($1) with its output going to a file ($2) that `tail --pid` streams, so
the step ends when the script does even while processes it left running hold their output open
(the restart that follows ends them). Without GNU tail the script runs directly."""
SETUP_MARK_VARIABLE = "TASKYARD_SETUP"
"""Set in setup's environment, so every process setup started carries it."""
MARKED_SCRIPT = (
    'grep -lxzF -e "$1" /proc/[0-9]*/environ 2>/dev/null | while read -r environ; do '
    "pid=${environ#/proc/}; pid=${pid%/environ}; "
    'printf "pid %s: %s\\n" "$pid" "$(tr "\\0" " " < /proc/$pid/cmdline 2>/dev/null)"; done'
)
"""Prints `pid N: command line` of every process whose environment holds the line $1."""
STATUS_SCRIPT = (
    'cd "$1" && git symbolic-ref HEAD "refs/heads/$2" && git reset --quiet "$3" && '
    "git status --porcelain=v1 -z --untracked-files=normal"
)
"""Undoes setup's commits and staging (its changes stay in the working tree), then lists them."""
SKIP_SCRIPT = 'cd "$1" && git update-index --skip-worktree -z --stdin < "$2" && rm -f "$2"'
GLOB_SPECIALS = "\\*?[]!# "


class SetupLeftoverError(Exception):
    """What setup left behind could not be cleared; the task does not go on."""


@dataclass(frozen=True)
class SetupChanges:
    """The repository files setup added (untracked) or changed (tracked), repo-relative."""

    added: tuple[str, ...]
    changed: tuple[str, ...]


def setup_mark() -> dict[str, str]:
    """A fresh mark for one setup's environment."""
    return {SETUP_MARK_VARIABLE: secrets.token_hex(8)}


async def end_setup_processes(sandbox: Sandbox, mark: dict[str, str]) -> None:
    """Restart the sandbox so that nothing setup (run with `mark`) started survives; check it."""
    await sandbox.stop()
    await sandbox.start()
    [(name, value)] = mark.items()
    argv = ["sh", "-c", MARKED_SCRIPT, "sh", f"{name}={value}"]
    survivors = (await _capture(sandbox, argv, "looking for setup's processes")).strip()
    if survivors:
        raise SetupLeftoverError(
            f"processes started by setup survived the sandbox restart: "
            f"{'; '.join(survivors.splitlines())[:500]}. "
            "Retry the task; report this if it happens again"
        )


async def keep_setup_changes_out(
    sandbox: Sandbox, repo_dir: str, branch: str, base_sha: str
) -> None:
    """Keep the files setup added or changed in the repository out of the agent's commit (a
    directory setup created is kept out whole)."""
    argv = ["sh", "-c", STATUS_SCRIPT, "sh", repo_dir, branch, base_sha]
    status = await _capture(sandbox, argv, "listing the files setup changed")
    changes = parse_status(status)
    if changes.added:
        await _exclude(sandbox, repo_dir, changes.added)
    if changes.changed:
        await _skip_worktree(sandbox, repo_dir, changes.changed)


def parse_status(status: str) -> SetupChanges:
    """Untracked and changed paths of `git status --porcelain=v1 -z` output with nothing
    staged (an untracked directory is one path ending in `/`)."""
    added: list[str] = []
    changed: list[str] = []
    for entry in status.split("\0"):
        if len(entry) < 4:
            continue
        code, path = entry[:2], entry[3:]
        (added if code == "??" else changed).append(path)
    return SetupChanges(tuple(added), tuple(changed))


def exclude_pattern(path: str) -> str:
    """A gitignore line matching exactly this repo-relative path."""
    escaped = "".join(f"\\{char}" if char in GLOB_SPECIALS else char for char in path)
    return "/" + escaped.replace("\n", "?").replace("\r", "?")


async def _exclude(sandbox: Sandbox, repo_dir: str, paths: tuple[str, ...]) -> None:
    exclude = posixpath.join(repo_dir, ".git", "info", "exclude")
    try:
        existing = await sandbox.read_file(exclude)
    except FileNotFoundError:
        existing = b""
    if existing and not existing.endswith(b"\n"):
        existing += b"\n"
    lines = "".join(f"{exclude_pattern(path)}\n" for path in paths)
    header = "# files written by the environment's setup, kept out of the result\n"
    await sandbox.write_file(exclude, existing + _encode(header + lines))


async def _skip_worktree(sandbox: Sandbox, repo_dir: str, paths: tuple[str, ...]) -> None:
    listing = posixpath.join(repo_dir, ".git", "taskyard-setup-changed")
    await sandbox.write_file(listing, _encode("".join(f"{path}\0" for path in paths)))
    argv = ["sh", "-c", SKIP_SCRIPT, "sh", repo_dir, listing]
    await _capture(sandbox, argv, "marking the files setup changed")


def _encode(text: str) -> bytes:
    return text.encode("utf-8", "surrogateescape")


async def _capture(sandbox: Sandbox, argv: list[str], step: str) -> str:
    chunks: list[bytes] = []
    result = await sandbox.exec(argv, workdir="/", timeout=CHECK_TIMEOUT, on_output=chunks.append)
    output = b"".join(chunks).decode("utf-8", errors="surrogateescape")
    if result.exit_code != 0:
        raise SetupLeftoverError(
            f"after setup, {step} failed with exit code {result.exit_code}: {output.strip()[-300:]}"
        )
    return output
