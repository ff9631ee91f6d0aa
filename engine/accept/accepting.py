"""Accepting a task's result, whole or in part: to a branch (a new one, or the same one moved
forward after a follow-up; see `branch`), or onto the working tree.

The diff is computed on the host from the task's verified bundle (`host_result`), never taken
from the sandbox's word; the patch actually accepted (after choosing and editing) is what the
safety check reads, and the task's own commits are checked too when they are what is kept.
Functions here block: the engine runs them in a thread.
"""

from __future__ import annotations

from pathlib import Path

from engine.accept.branch import place_branch
from engine.accept.choice import choose, covers_all
from engine.accept.git_index import apply_onto_worktree, commit_patch
from engine.diff.patchset import parse_patch, render_patch, touched_paths
from engine.errors import EngineError
from engine.git import gitops
from engine.git.host_result import (
    HostResult,
    cached_diff,
    cached_result,
    check_delivery,
    squash_message,
)
from engine.views.accept import Accepted, AcceptRequest, Choice
from engine.views.diff import FileDiff
from engine.views.request import is_remote
from engine.views.safety import Finding
from engine.views.task import TaskRecord


def _bundle(task: TaskRecord) -> Path:
    bundle = Path(task.result_bundle) if task.result_bundle else None
    if bundle is None or not bundle.exists():
        ask = ", mode ask" if task.mode == "ask" else ""
        raise EngineError(f"task {task.id} has no result to accept (status {task.status}{ask})")
    return bundle


def _local_repo(task: TaskRecord, repo: str | None) -> Path:
    target = repo or task.repo
    if is_remote(target):
        raise EngineError(
            f"task {task.id} ran on a remote repository: pass --repo PATH of a local clone"
        )
    return Path(target).expanduser()


def _files(diff: str, task: TaskRecord) -> list[FileDiff]:
    files = parse_patch(diff)
    if not files:
        raise EngineError(f"task {task.id} changed nothing: there is nothing to accept")
    return files


def read_result(task: TaskRecord, cache_dir: Path) -> HostResult:
    """The task's result as the host reads it from its verified bundle."""
    try:
        return cached_result(task, cache_dir, _bundle(task))
    except gitops.GitError as error:
        raise EngineError(str(error)) from None


def result_files(task: TaskRecord, cache_dir: Path) -> list[FileDiff]:
    """The files and hunks of the task's result, as accepting it sees them."""
    try:
        return _files(cached_diff(task, cache_dir, _bundle(task)), task)
    except gitops.GitError as error:
        raise EngineError(str(error)) from None


def chosen_patch(task: TaskRecord, files: list[FileDiff], choice: Choice) -> str:
    """The patch text of what `choice` takes from `files`."""
    return render_patch(choose(files, choice, task.id))


def accept_result(task: TaskRecord, request: AcceptRequest, cache_dir: Path) -> Accepted:
    """Accept what `request` asks of the task's result; see AcceptRequest.

    SecretInResult when any commit of the result carries a secret value, whatever is asked;
    UnsafeResult when the accepted change, or a commit kept on the branch, is flagged and
    not allowed.
    """
    result = read_result(task, cache_dir)
    try:
        local = _local_repo(task, request.repo)
        if task.include_uncommitted:
            gitops.fetch_base(local, cache_dir, task.repo, task.base_sha)
        top, head = gitops.fetch_result(local, _bundle(task), task.branch, task.base_sha)
        files = _files(result.diff, task)
        chosen = _chosen(task, files, request)
        whole = request.patch is None and covers_all(files, chosen)
        keeps_history = whole and not request.squash and not request.onto_worktree
        found = check_delivery(task, result, chosen, keeps_history, request.allow_unsafe)
        if request.onto_worktree:
            return _onto_worktree(top, chosen, whole, found)
        if whole and request.squash:
            return _squashed(task, request, (top, head), (result, chosen), found)
        return _to_branch(task, request, (top, head), chosen, whole, found)
    except gitops.GitError as error:
        raise EngineError(str(error)) from None


def _chosen(task: TaskRecord, files: list[FileDiff], request: AcceptRequest) -> list[FileDiff]:
    if request.patch is None:
        return choose(files, request.choice, task.id)
    chosen = parse_patch(request.patch)
    if not chosen:
        raise EngineError("the patch is empty: nothing was accepted")
    return chosen


def _squashed(
    task: TaskRecord,
    request: AcceptRequest,
    fetched: tuple[Path, str],
    whole: tuple[HostResult, list[FileDiff]],
    found: tuple[Finding, ...],
) -> Accepted:
    top, head = fetched
    result, chosen = whole
    branch = request.branch or task.branch
    gitops.check_branch_name(top, branch)
    sha = gitops.squash_commit(top, task.base_sha, head, squash_message(task, result))
    previous = place_branch(top, branch, sha, task.id)
    files = tuple(file.path for file in chosen)
    return Accepted("branch", top, files, _hunks(chosen), True, branch, sha, found, True, previous)


def _onto_worktree(
    top: Path, chosen: list[FileDiff], whole: bool, found: tuple[Finding, ...]
) -> Accepted:
    patch = render_patch(chosen).encode("utf-8", "surrogateescape")
    apply_onto_worktree(top, patch, touched_paths(chosen))
    files = tuple(file.path for file in chosen)
    return Accepted("worktree", top, files, _hunks(chosen), whole, findings=found)


def _to_branch(
    task: TaskRecord,
    request: AcceptRequest,
    fetched: tuple[Path, str],
    chosen: list[FileDiff],
    whole: bool,
    found: tuple[Finding, ...],
) -> Accepted:
    top, head = fetched
    branch = request.branch or task.branch
    gitops.check_branch_name(top, branch)
    if whole:
        sha = head
    else:
        patch = render_patch(chosen).encode("utf-8", "surrogateescape")
        sha = commit_patch(top, task.base_sha, patch, _message(task, chosen))
    previous = place_branch(top, branch, sha, task.id)
    files = tuple(file.path for file in chosen)
    return Accepted(
        "branch", top, files, _hunks(chosen), whole, branch, sha, found, previous=previous
    )


def _hunks(chosen: list[FileDiff]) -> int:
    return sum(len(file.hunks) for file in chosen if not file.whole_only)


def _part(file: FileDiff) -> str:
    return file.kind if file.whole_only else f"{len(file.hunks)} hunk(s)"


def _message(task: TaskRecord, chosen: list[FileDiff]) -> str:
    lines = task.prompt.strip().splitlines()
    title = lines[0][:60] if lines else f"task {task.id}"
    files = "\n".join(f"- {file.path} ({_part(file)})" for file in chosen)
    return f"taskyard: {title}\n\nPart of taskyard task {task.id}, chosen by hand:\n{files}\n"
