"""What clients hold about accepting and delivering a result: what they ask, what was done, and
the conflict that stops it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from engine.errors import EngineError
from engine.views.safety import Finding


@dataclass(frozen=True)
class Choice:
    """Files taken whole and hunks taken one by one; nothing named means the whole result."""

    paths: tuple[str, ...] = ()
    """Paths as the diff names them (a renamed file by either name)."""
    hunks: tuple[tuple[str, int], ...] = ()
    """(path, hunk number counted from 1 within the file)."""

    @property
    def everything(self) -> bool:
        return not self.paths and not self.hunks


Target = Literal["branch", "worktree"]


@dataclass(frozen=True)
class AcceptRequest:
    """What to accept and where; by default the whole result, to a new branch."""

    choice: Choice = field(default_factory=Choice)
    patch: str | None = None
    """A patch (edited by the person) accepted instead of `choice`."""
    onto_worktree: bool = False
    """Apply onto the repository's working tree instead of making a branch."""
    allow_unsafe: bool = False
    """The person confirmed a result the safety check flags."""
    squash: bool = False
    """On a branch, one new commit with the net change on the base instead of the task's
    commits (whose history is then not kept, nor checked)."""
    repo: str | None = None
    """The local repository (default: the task's)."""
    branch: str | None = None
    """The branch's name (default: the task's branch name). One that exists moves forward to
    the result when that is a fast-forward; otherwise accepting raises BranchTaken."""


@dataclass(frozen=True)
class Accepted:
    """What accepting did."""

    target: Target
    repo: Path
    files: tuple[str, ...]
    """The paths the accepted patch changes."""
    hunks: int
    """Hunks of modified files among them (new, deleted, binary... files have none)."""
    whole: bool
    """The task's whole result (on a branch: its own commits, or one when squashed)."""
    branch: str = ""
    sha: str = ""
    findings: tuple[Finding, ...] = ()
    """Safety findings the person allowed."""
    squashed: bool = False
    """The whole result became one commit on the base."""
    previous: str = ""
    """Where the branch was before: empty when it was made new, else a commit `sha` holds
    (the branch moved forward to it, or was there already)."""

    @property
    def moved(self) -> bool:
        """The branch existed and moved forward to `sha`."""
        return bool(self.previous) and self.previous != self.sha


@dataclass(frozen=True)
class Conflict:
    """Why one file could not be applied onto the working tree."""

    path: str
    reason: str

    def __str__(self) -> str:
        return f"{self.path}: {self.reason}"


class WorktreeConflict(EngineError):
    """The patch does not apply cleanly onto the working tree, which was left as it was."""

    def __init__(self, top: Path, conflicts: Sequence[Conflict]) -> None:
        self.conflicts = tuple(conflicts)
        listed = "\n".join(f"  {conflict}" for conflict in self.conflicts)
        super().__init__(
            f"cannot apply onto the working tree of {top}; nothing was changed:\n{listed}\n"
            "commit or stash your changes and try again, or accept to a new branch instead"
        )


class BranchTaken(EngineError):
    """The branch asked for exists and cannot move forward to the result; nothing was changed.

    `reason` completes "branch NAME ..." for a person; `suggestion` is a free name to use instead.
    """

    def __init__(self, branch: str, reason: str, suggestion: str) -> None:
        self.branch = branch
        self.reason = reason
        self.suggestion = suggestion
        super().__init__(
            f"branch {branch} {reason}, so it was not moved: choose another name with --branch "
            f"(e.g. --branch {suggestion})"
        )


Action = Literal["opened", "updated", "pushed"]


@dataclass(frozen=True)
class Delivery:
    """What was done: the branch pushed, and the pull request opened or updated."""

    action: Action
    """opened or updated; pushed when there was no token and the request is opened by hand."""
    branch: str
    remote: str
    """The remote's name, or the URL a task on a URL was pushed to."""
    head_sha: str
    forge: str
    """github or gitlab."""
    url: str
    """The pull request's page; when pushed, where to open it by hand."""
    number: int = 0
    state: str = ""
    """The pull request's state: open, closed or merged."""
    note: str = ""
    """Why the base branch is not the task's own ref; how to give a token when pushed."""
    findings: tuple[Finding, ...] = ()
    """Safety findings the person allowed."""
