"""Putting an accepted result on a branch: a new one, or the same one moved forward.

Accepting again after a follow-up moves the branch to the new result when that is a
fast-forward (its tip is in the result's history), so no commit of the branch is lost. A branch
with commits the result lacks, or one checked out in a work tree, is never moved: BranchTaken
names a free name to use instead.
"""

from __future__ import annotations

from pathlib import Path

from engine.git import gitops
from engine.views.accept import BranchTaken


def place_branch(top: Path, branch: str, sha: str, task_id: str) -> str:
    """Point `branch` in `top` at `sha`: create it, or move it forward. Returns where it was
    before ("" when it was made new); BranchTaken, nothing changed, when it cannot move."""
    gitops.check_branch_name(top, branch)
    tip = gitops.branch_tip(top, branch)
    if tip is None:
        gitops.create_branch(top, branch, sha)
        return ""
    if tip == sha:
        return tip
    if not gitops.is_ancestor(top, tip, sha):
        missing = gitops.commits_missing(top, tip, sha)
        commits = "commit" if missing == 1 else "commits"
        reason = f"has {missing} {commits} that task {task_id}'s result does not"
        raise BranchTaken(branch, reason, gitops.free_branch_name(top, branch))
    where = gitops.checked_out_at(top, branch)
    if where is not None:
        reason = f"is checked out in {where} (update it there: git merge --ff-only {sha[:12]})"
        raise BranchTaken(branch, reason, gitops.free_branch_name(top, branch))
    gitops.move_branch(top, branch, sha, tip)
    return tip
