"""A task's result as the host computes it from the verified bundle: the head, the diff, and
what each commit in base..head carries (unsafe changes, secret values).

Finishing a task, showing it, accepting it and pushing it all read the result here, so what is
shown is byte for byte what is accepted. Nothing the sandbox printed takes part. Functions
block (git): run them in a thread.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine.accept.safety import findings
from engine.diff.patchset import parse_patch
from engine.git import gitops
from engine.secrets.values import Redactor, Secret
from engine.views.diff import FileDiff
from engine.views.safety import Finding, SecretInResult, UnsafeResult
from engine.views.task import TaskRecord

COMMIT_MESSAGE = "(commit message)"
"""The path a secret found in a commit's message or author is reported under."""


@dataclass(frozen=True)
class HostResult:
    """A verified result, read on the host."""

    head_sha: str
    """The branch's head from the bundle's refs: 40 hex digits."""
    diff: str
    """base..head as accepting reads it; bytes that are not UTF-8 as surrogate escapes."""
    commits: tuple[str, ...]
    """base..head, oldest first."""
    unsafe: tuple[Finding, ...]
    """The safety rules' findings in each commit, each naming its commit."""
    secrets: tuple[Finding, ...] = field(default=())
    """Secret values found in each commit (only when secrets were given)."""

    def stored_diff(self, secrets: Sequence[Secret]) -> str:
        """The diff as a task stores and shows it: secret values redacted, bytes that are not
        UTF-8 replaced."""
        redacted = Redactor(secrets).redact_text(self.diff)
        return redacted.encode("utf-8", "surrogateescape").decode("utf-8", "replace")

    def stored_findings(self) -> list[dict[str, Any]]:
        """The findings as a task stores them: no secret value, only the secret's name."""
        tagged = [("unsafe", finding) for finding in self.unsafe]
        tagged += [("secret", finding) for finding in self.secrets]
        return [{"kind": kind, **finding.to_dict()} for kind, finding in tagged]


def read_result(
    repo: Path, bundle: Path, branch: str, base_sha: str, secrets: Sequence[Secret] = ()
) -> HostResult:
    """Verify `bundle` against `repo` (which holds base_sha), fetch its objects there, and
    compute the result of the task's `branch`, every commit checked."""
    top, head, diff = _verified_diff(repo, bundle, branch, base_sha)
    history = gitops.commits_between(top, base_sha, head)
    unsafe = [found for commit, parent in history for found in _unsafe(top, parent, commit)]
    redactor = Redactor(secrets)
    leaks = [found for commit, parent in history for found in _leaks(top, parent, commit, redactor)]
    commits = tuple(commit for commit, _parent in history)
    return HostResult(head, diff, commits, tuple(unsafe), tuple(leaks))


def _verified_diff(repo: Path, bundle: Path, branch: str, base_sha: str) -> tuple[Path, str, str]:
    """(top level, head, diff) of the verified bundle's `branch`, its objects fetched into repo."""
    top, head = gitops.fetch_result(repo, bundle, branch, base_sha)
    return top, head, gitops.result_diff(top, base_sha, head)


def cached_result(
    task: TaskRecord, cache_dir: Path, bundle: Path, secrets: Sequence[Secret] = ()
) -> HostResult:
    """`read_result` of a task, computed in its source's cache."""
    with gitops.source_cache(task.repo, cache_dir, task.base_sha) as cache:
        return read_result(cache, bundle, task.branch, task.base_sha, secrets)


def cached_diff(task: TaskRecord, cache_dir: Path, bundle: Path) -> str:
    """The diff of a task's verified result alone (its commits not checked), in its source's
    cache: what showing the result's files needs."""
    with gitops.source_cache(task.repo, cache_dir, task.base_sha) as cache:
        return _verified_diff(cache, bundle, task.branch, task.base_sha)[2]


def _unsafe(repo: Path, parent: str, commit: str) -> Iterator[Finding]:
    files = parse_patch(gitops.result_diff(repo, parent, commit))
    return (found.in_commit(commit) for found in findings(files))


def _leaks(repo: Path, parent: str, commit: str, redactor: Redactor) -> Iterator[Finding]:
    """Each secret `commit` adds: in a file's content (at its line) or name, or in the commit's
    message and author."""
    if not redactor:
        return
    for hit in redactor.hits(_text(gitops.object_bytes(repo, "commit", commit))):
        yield Finding(COMMIT_MESSAGE, _holds(hit.name), commit)
    for changed in gitops.changed_blobs(repo, parent, commit):
        for hit in redactor.hits(changed.path):
            yield Finding(changed.path, f"its name {_holds(hit.name)}", commit)
        before = _names(redactor, repo, changed.old_blob)
        for hit in redactor.hits(_text(gitops.object_bytes(repo, "blob", changed.new_blob))):
            if hit.name not in before:
                yield Finding(changed.path, _holds(hit.name), commit, hit.line)


def _names(redactor: Redactor, repo: Path, blob: str) -> set[str]:
    """The secrets a blob already held (none for no blob)."""
    if not blob:
        return set()
    return {hit.name for hit in redactor.hits(_text(gitops.object_bytes(repo, "blob", blob)))}


def _text(data: bytes) -> str:
    return data.decode("utf-8", "surrogateescape")


def _holds(name: str) -> str:
    return f"holds the value of the secret {name}"


def stored_secrets(task: TaskRecord) -> list[Finding]:
    """The secret values found in the task's commits when it finished."""
    return [Finding.from_dict(item) for item in task.findings if item.get("kind") == "secret"]


def check_delivery(
    task: TaskRecord,
    result: HostResult,
    delivered: Sequence[FileDiff],
    keeps_history: bool,
    allow_unsafe: bool,
) -> tuple[Finding, ...]:
    """The findings that deliver `delivered` (the change accepted or pushed), with the task's
    own commits when `keeps_history`. SecretInResult for a secret in any commit, always;
    UnsafeResult for any other finding unless `allow_unsafe`."""
    leaked = stored_secrets(task) or list(result.secrets)
    if leaked:
        raise SecretInResult(task.id, leaked)
    found = findings(delivered)
    if keeps_history:
        shown = {(finding.path, finding.reason) for finding in found}
        found += [item for item in result.unsafe if (item.path, item.reason) not in shown]
    if found and not allow_unsafe:
        raise UnsafeResult(task.id, found)
    return tuple(found)


def squash_message(task: TaskRecord, result: HostResult) -> str:
    """The message of the one commit a squashed result is delivered as."""
    lines = task.prompt.strip().splitlines()
    title = lines[0][:60] if lines else f"task {task.id}"
    count = len(result.commits)
    commits = f"{count} commit" + ("" if count == 1 else "s")
    return (
        f"taskyard: {title}\n\nThe net change of taskyard task {task.id} ({commits}), squashed.\n"
    )
