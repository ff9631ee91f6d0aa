"""Applying a patch on the host through temporary indexes: as a commit on the task's base, or
onto the working tree by a 3-way merge. The person's index is never written, and their working
tree only once every file has merged cleanly."""

from __future__ import annotations

import os
import re
import subprocess
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from engine.accept.worktree_snapshot import WorktreeSnapshot
from engine.errors import EngineError
from engine.views.accept import Conflict, WorktreeConflict

APPLY_OPTIONS = ("--binary", "--whitespace=nowarn")
FALLBACK_IDENTITY = {
    "GIT_AUTHOR_NAME": "taskyard",
    "GIT_AUTHOR_EMAIL": "taskyard@localhost",
    "GIT_COMMITTER_NAME": "taskyard",
    "GIT_COMMITTER_EMAIL": "taskyard@localhost",
}
_GIT_ENV = {"GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C", "GIT_LITERAL_PATHSPECS": "1"}
_ERROR_LINE = re.compile(r"^error: (?:patch failed: )?(.+?)(?::\d+)?: (.+)$")
_PATCH_FAILED = re.compile(r"^error: patch failed: (.+):\d+$")


@dataclass(frozen=True)
class _Run:
    returncode: int
    stdout: str
    stderr: str


def _run(
    args: Sequence[str],
    top: Path,
    index: Path | None = None,
    stdin: bytes = b"",
    env: dict[str, str] | None = None,
) -> _Run:
    """Run git in `top` (on the temporary `index` when given), never waiting for a prompt."""
    full_env = {**os.environ, **_GIT_ENV, **(env or {})}
    if index is not None:
        full_env["GIT_INDEX_FILE"] = str(index)
    done = subprocess.run(
        ["git", *args],
        cwd=top,
        env=full_env,
        input=stdin,
        capture_output=True,
        check=False,
        start_new_session=True,
    )
    stdout = done.stdout.decode("utf-8", errors="surrogateescape")
    return _Run(done.returncode, stdout, done.stderr.decode("utf-8", errors="replace"))


def _checked(args: Sequence[str], top: Path, index: Path | None = None) -> str:
    done = _run(args, top, index)
    if done.returncode != 0:
        reason = done.stderr.strip().splitlines()[-1:] or ["git failed"]
        raise EngineError(f"git {args[0]} failed in {top}: {reason[0]}")
    return done.stdout.strip()


def _listed(args: Sequence[str], top: Path, index: Path | None) -> list[str]:
    """The NUL-separated paths a `-z` git listing prints, exactly as they are."""
    done = _run(args, top, index)
    if done.returncode != 0:
        raise EngineError(f"git {args[0]} failed in {top}: {done.stderr.strip()}")
    return [entry for entry in done.stdout.split("\0") if entry]


def _apply_errors(stderr: str) -> list[Conflict]:
    """`path: reason` for each error line of `git apply`, one per path."""
    conflicts: dict[str, str] = {}
    for line in stderr.splitlines():
        failed = _PATCH_FAILED.match(line)
        match = failed or _ERROR_LINE.match(line)
        if match is None:
            continue
        reason = "the patch does not apply to it" if failed else match[2]
        conflicts.setdefault(match[1], reason)
    return [Conflict(path, reason) for path, reason in conflicts.items()]


def _identity_env(top: Path) -> dict[str, str]:
    """A fallback author for repositories with no user.name/user.email configured."""
    return {} if _run(["var", "GIT_AUTHOR_IDENT"], top).returncode == 0 else FALLBACK_IDENTITY


def commit_patch(top: Path, base_sha: str, patch: bytes, message: str) -> str:
    """A commit on base_sha holding exactly `patch`, built in a temporary index; its sha."""
    with tempfile.TemporaryDirectory(prefix="taskyard-accept-") as scratch:
        index = Path(scratch) / "index"
        _checked(["read-tree", base_sha], top, index)
        applied = _run(["apply", "--cached", *APPLY_OPTIONS, "-"], top, index, patch)
        if applied.returncode != 0:
            reasons = "; ".join(map(str, _apply_errors(applied.stderr))) or applied.stderr.strip()
            raise EngineError(f"the patch does not apply to the task's base commit: {reasons}")
        tree = _checked(["write-tree"], top, index)
        args = ["commit-tree", tree, "-p", base_sha, "-F", "-"]
        done = _run(args, top, stdin=message.encode(), env=_identity_env(top))
        if done.returncode != 0:
            raise EngineError(f"cannot commit the chosen changes: {done.stderr.strip()}")
        return done.stdout.strip()


def _unmerged(top: Path, index: Path | None) -> dict[str, set[int]]:
    """Paths with conflict stages in `index` (the repository's own when None)."""
    stages: dict[str, set[int]] = {}
    for line in _listed(["ls-files", "--unmerged", "-z"], top, index):
        meta, path = line.split("\t", 1)
        stages.setdefault(path, set()).add(int(meta.split()[2]))
    return stages


def _conflicts(top: Path, index: Path, stderr: str) -> list[Conflict]:
    found = {conflict.path: conflict for conflict in _apply_errors(stderr)}
    for path, stages in _unmerged(top, index).items():
        reason = (
            "conflicts with your changes to it"
            if 1 in stages
            else "already exists in your working tree"
        )
        found[path] = Conflict(path, reason)
    return list(found.values()) or [Conflict("(patch)", stderr.strip() or "git apply failed")]


def _refuse_unmerged(top: Path) -> None:
    unmerged = sorted(_unmerged(top, None))
    if unmerged:
        raise EngineError(
            f"{top} has unresolved merge conflicts ({', '.join(unmerged[:5])}): resolve them first"
        )


def apply_onto_worktree(top: Path, patch: bytes, touched: Sequence[str]) -> None:
    """Apply `patch` (which reads and writes the `touched` paths) onto the working tree at
    `top` by a 3-way merge.

    The merge runs in a temporary index seeded with the working tree's own content of the
    touched paths (staged or not, tracked or not), so uncommitted work is the "ours" side. When
    any file conflicts, WorktreeConflict lists them all and nothing is written; the person's
    index is never written at all.
    """
    if _run(["rev-parse", "--verify", "--quiet", "HEAD"], top).returncode != 0:
        raise EngineError(f"{top} has no commits yet: accept to a new branch instead")
    _refuse_unmerged(top)
    with tempfile.TemporaryDirectory(prefix="taskyard-accept-") as scratch:
        index = Path(scratch) / "index"
        _checked(["read-tree", "HEAD"], top, index)
        _checked(["update-index", "--add", "--remove", "--", *touched], top, index)
        applied = _run(["apply", "--3way", "--cached", *APPLY_OPTIONS, "-"], top, index, patch)
        if applied.returncode != 0:
            raise WorktreeConflict(top, _conflicts(top, index, applied.stderr))
        _write_from_index(top, index, touched)


def _write_from_index(top: Path, index: Path, touched: Sequence[str]) -> None:
    """Check the touched paths out of `index`, deleting those it lacks; on any failure the
    working tree is put back as it was."""
    listed = set(_listed(["ls-files", "-z", "--", *touched], top, index))
    present = [path for path in touched if path in listed]
    snapshot = WorktreeSnapshot.take(top, touched)
    try:
        if present:
            _checked(["checkout-index", "--force", "--", *present], top, index)
        for path in touched:
            if path not in present and os.path.lexists(top / path):
                (top / path).unlink()
    except (OSError, EngineError) as error:
        snapshot.restore()
        raise EngineError(
            f"writing the changes into {top} failed ({error}); your files were put back"
        ) from None
