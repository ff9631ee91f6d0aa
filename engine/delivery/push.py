"""Push a task's branch from its result bundle to the repository's remote; read the remote's
branches.

Synchronous like the rest of the host-side git (run it in a thread); failures are `GitError`s
that say what happened and what to do.
"""

from __future__ import annotations

import re
from pathlib import Path

from engine.git.command import GitError, GitFailed, git_text, summarise
from engine.git.gitops import (
    fetch_base,
    fetch_result,
    local_top_level,
    locked_cache,
    squash_commit,
)
from engine.views.request import is_remote

_SHA = re.compile(r"^[0-9a-fA-F]{7,40}$")
_AUTH_FAILURES = (
    "authentication failed",
    "permission denied",
    "could not read username",
    "terminal prompts disabled",
    "access denied",
    "the requested url returned error: 403",
    "the requested url returned error: 401",
)
_UNREACHABLE = ("could not resolve host", "connection refused", "timed out", "unable to access")


def remote_url(repo: str, remote: str) -> str:
    """The URL of `remote` in the local repository `repo`; a URL repository is its own remote."""
    if is_remote(repo):
        return repo
    top = local_top_level(Path(repo))
    try:
        return git_text(["remote", "get-url", "--push", "--", remote], top)
    except GitFailed:
        raise GitError(
            f"{top} has no remote {remote!r}: add it (`git remote add {remote} URL`) or name "
            "another one with remote = ... in the config's [forge] table"
        ) from None


def push_result(
    repo: str, cache_dir: Path, result: tuple[Path, str, str], remote: str, squash: str = ""
) -> str:
    """Push the `result` bundle's branch (bundle, branch, base sha) to the same branch of
    `remote`; return the pushed commit. With a `squash` message, one new commit with the net
    change on the base is pushed instead of the task's commits.

    A local repository pushes through its own remote (its credentials and push URL apply);
    only objects are fetched into it, no ref, working tree or index changes. A task on a URL
    pushes from the source's cache to that URL. Never forced: the remote branch must be an
    ancestor.
    """
    branch = result[1]
    if is_remote(repo):
        with locked_cache(cache_dir, repo) as cache:
            sha = _commit_to_push(cache, result, squash)
            _push(cache, repo, sha, branch)
    else:
        top = local_top_level(Path(repo))
        fetch_base(top, cache_dir, repo, result[2])
        sha = _commit_to_push(top, result, squash)
        _push(top, remote, sha, branch)
    return sha


def _commit_to_push(repo: Path, result: tuple[Path, str, str], squash: str) -> str:
    bundle, branch, base_sha = result
    top, head = fetch_result(repo, bundle, branch, base_sha)
    return squash_commit(top, base_sha, head, squash) if squash else head


def _push(cwd: Path, remote: str, sha: str, branch: str) -> None:
    try:
        git_text(["push", "--quiet", "--", remote, f"{sha}:refs/heads/{branch}"], cwd)
    except GitFailed as failed:
        raise GitError(explain_push(failed.stderr, remote, branch)) from None


def explain_push(stderr: str, remote: str, branch: str) -> str:
    """What a failed push means and what to do about it."""
    lowered = stderr.lower()
    if "[rejected]" in lowered or "non-fast-forward" in lowered or "fetch first" in lowered:
        return (
            f"{remote} rejected the push of {branch}: the branch there has commits this task "
            f"does not. Look at them; to replace them, delete it (`git push {remote} --delete "
            f"{branch}`) and run `taskyard pr` again"
        )
    if "[remote rejected]" in lowered:
        reason = re.search(r"\[remote rejected\][^(]*\((.*)\)", stderr)
        why = reason.group(1) if reason else summarise(stderr)
        return f"{remote} refused {branch} ({why}): a protected branch name or a server hook?"
    if any(text in lowered for text in _AUTH_FAILURES):
        return (
            f"cannot push to {remote}: authentication failed ({summarise(stderr)}); set up git "
            "credentials for it (an SSH key, or a credential helper such as `gh auth setup-git`)"
        )
    if any(text in lowered for text in _UNREACHABLE):
        return f"cannot reach {remote}: {summarise(stderr)}"
    return f"pushing {branch} to {remote} failed: {summarise(stderr)}"


def base_branch(repo: str, remote: str, ref: str | None) -> tuple[str, str]:
    """The remote branch a pull request of the task goes into, and a note when it is not the
    task's own ref: `ref` when the remote has that branch, else the remote's default branch."""
    wanted = branch_of(ref, remote)
    cwd = None if is_remote(repo) else local_top_level(Path(repo))
    args = ["ls-remote", "--symref", "--", remote, "HEAD"]
    try:
        listing = git_text([*args, f"refs/heads/{wanted}"] if wanted else args, cwd)
    except GitFailed as failed:
        raise GitError(f"cannot list the branches of {remote}: {failed.summary}") from None
    default = ""
    for line in listing.splitlines():
        if wanted and line.endswith(f"\trefs/heads/{wanted}"):
            return wanted, ""
        if line.startswith("ref: refs/heads/"):
            default = line.removeprefix("ref: refs/heads/").split("\t")[0]
    if not default:
        raise GitError(
            f"{remote} has no branch {wanted or '(the task ran on a detached HEAD)'} and no "
            "default branch for the pull request to go into: push one first"
        )
    if not wanted:
        return default, f"the task started from {ref or 'HEAD'}: into {remote}'s default branch"
    return default, f"{remote} has no branch {wanted}: into its default branch {default}"


def branch_of(ref: str | None, remote: str) -> str:
    """The branch name a task's ref names, without refs/heads/ or the remote's prefix; empty
    for HEAD, a commit or a tag."""
    if not ref or ref == "HEAD" or _SHA.match(ref) or ref.startswith("refs/tags/"):
        return ""
    name = ref.removeprefix("refs/heads/").removeprefix("refs/remotes/")
    name = name.removeprefix(f"{remote}/") if not ref.startswith("refs/heads/") else name
    return "" if name.startswith("refs/") else name
