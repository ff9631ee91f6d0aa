"""Applying a patch on the host through temporary indexes: as a commit on the task's base, or
onto the working tree by a 3-way merge. The person's index is never written, and their working
tree only once every file has merged cleanly."""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Sequence
from pathlib import Path

from engine.accept.worktree_snapshot import WorktreeSnapshot
from engine.errors import EngineError
from engine.git.command import GitError, GitFailed, git_listing, git_text
from engine.git.gitops import identity_env
from engine.views.accept import Conflict, WorktreeConflict

APPLY_OPTIONS = ("--binary", "--whitespace=nowarn")
_ERROR_LINE = re.compile(r"^error: (?:patch failed: )?(.+?)(?::\d+)?: (.+)$")
_PATCH_FAILED = re.compile(r"^error: patch failed: (.+):\d+$")


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


def commit_patch(top: Path, base_sha: str, patch: bytes, message: str) -> str:
    """A commit on base_sha holding exactly `patch`, built in a temporary index; its sha."""
    with tempfile.TemporaryDirectory(prefix="taskyard-accept-") as scratch:
        index = Path(scratch) / "index"
        git_text(["read-tree", base_sha], top, index=index)
        try:
            git_text(["apply", "--cached", *APPLY_OPTIONS, "-"], top, index=index, stdin=patch)
        except GitFailed as failed:
            reasons = "; ".join(map(str, _apply_errors(failed.stderr))) or failed.summary
            raise EngineError(
                f"the patch does not apply to the task's base commit: {reasons}"
            ) from None
        tree = git_text(["write-tree"], top, index=index)
        args = ["commit-tree", tree, "-p", base_sha, "-F", "-"]
        try:
            return git_text(args, top, stdin=message.encode(), env=identity_env(top))
        except GitFailed as failed:
            raise EngineError(f"cannot commit the chosen changes: {failed.summary}") from None


def _unmerged(top: Path, index: Path | None) -> dict[str, set[int]]:
    """Paths with conflict stages in `index` (the repository's own when None)."""
    stages: dict[str, set[int]] = {}
    for line in git_listing(["ls-files", "--unmerged", "-z"], top, index=index):
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
    try:
        git_text(["rev-parse", "--verify", "--quiet", "HEAD"], top)
    except GitFailed:
        raise EngineError(f"{top} has no commits yet: accept to a new branch instead") from None
    _refuse_unmerged(top)
    with tempfile.TemporaryDirectory(prefix="taskyard-accept-") as scratch:
        index = Path(scratch) / "index"
        git_text(["read-tree", "HEAD"], top, index=index)
        git_text(["update-index", "--add", "--remove", "--", *touched], top, index=index)
        apply = ["apply", "--3way", "--cached", *APPLY_OPTIONS, "-"]
        try:
            git_text(apply, top, index=index, stdin=patch)
        except GitFailed as failed:
            raise WorktreeConflict(top, _conflicts(top, index, failed.stderr)) from None
        _write_from_index(top, index, touched)


def _write_from_index(top: Path, index: Path, touched: Sequence[str]) -> None:
    """Check the touched paths out of `index`, deleting those it lacks; on any failure the
    working tree is put back as it was."""
    listed = set(git_listing(["ls-files", "-z", "--", *touched], top, index=index))
    present = [path for path in touched if path in listed]
    snapshot = WorktreeSnapshot.take(top, touched)
    try:
        if present:
            git_text(["checkout-index", "--force", "--", *present], top, index=index)
        for path in touched:
            if path not in present and os.path.lexists(top / path):
                (top / path).unlink()
    except (OSError, GitError) as error:
        snapshot.restore()
        raise EngineError(
            f"writing the changes into {top} failed ({error}); your files were put back"
        ) from None
