"""Git on the host and in the sandbox: ship a ref in as a bundle, bring the task's commits back.

Host-side functions are synchronous (run them in a thread) and raise `GitError` with a message
fit to show the user. Sandbox-side steps are returned as `sh -c` scripts or argv lists.
"""

from __future__ import annotations

import fcntl
import hashlib
import re
import shlex
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from engine.git.bundles import BundleRefused, branch_head, read_header
from engine.git.command import GitError as GitError
from engine.git.command import GitFailed, git_bytes, git_exact, git_listing, git_text
from engine.views.request import UNCOMMITTED_SAMPLE, UncommittedWork, is_remote

BASE_REF = "refs/heads/taskyard-base"
UNCOMMITTED_REFS = "refs/taskyard/uncommitted/"
"""Where a source's cache keeps each commit of uncommitted changes a task started from."""
ANY_COMMIT = ("-c", "protocol.version=2", "-c", "uploadpack.allowAnySHA1InWant=true")
"""Lets a fetch from a local repository take a commit no ref points at."""
BUNDLE_NAME = "base.bundle"
AGENTS_FILE = "AGENTS.md"
_MIRROR_REFSPECS = ("+refs/heads/*:refs/source/heads/*", "+refs/tags/*:refs/source/tags/*")
_HEX_PATTERN = re.compile(r"^[0-9a-fA-F]{4,40}$")
_SHA_PATTERN = re.compile(r"\b[0-9a-f]{40}\b")
_DIFF_OPTIONS = (
    "--binary",
    "--no-color",
    "--no-ext-diff",
    "--no-textconv",
    "--src-prefix=a/",
    "--dst-prefix=b/",
)
_RESULT_DIFF_OPTIONS = (
    "--full-index",
    "--find-renames",
    "--diff-algorithm=myers",
    "--unified=3",
    "--inter-hunk-context=0",
    "--no-relative",
    "-O/dev/null",
)
_PINNED_CONFIG = (
    "-c",
    "core.quotePath=true",
    "-c",
    "diff.suppressBlankEmpty=false",
    "-c",
    "diff.indentHeuristic=true",
    "-c",
    "core.attributesFile=/dev/null",
)


@dataclass(frozen=True)
class PreparedSource:
    """A source repository resolved to one commit and bundled for the sandbox."""

    bundle_path: Path
    """Bundle holding the full history of `base_sha` as `refs/heads/taskyard-base`."""
    base_sha: str
    """The commit the task starts from."""
    ref: str
    """The ref as asked, or the source's current branch (or "HEAD" when detached)."""
    repo_name: str
    """Directory or repository name, e.g. "taskyard"."""
    source: str
    """Normalised source: the work tree's top level (local) or the URL as given (remote)."""
    is_local: bool
    """True for a local path, False for a URL."""


@dataclass(frozen=True)
class AgentsDoc:
    """One AGENTS.md read from the base commit."""

    path: str
    """Repo-relative path, e.g. "AGENTS.md" or "src/AGENTS.md"."""
    content: str
    """Text, cut to the byte budget when `truncated`."""
    size: int
    """Full size of the file in bytes."""
    truncated: bool


def local_top_level(path: Path) -> Path:
    """The work tree's top level (or a bare repository's directory) containing `path`."""
    if not path.exists():
        raise GitError(f"{path} does not exist")
    start = path if path.is_dir() else path.parent
    args = ["rev-parse", "--is-bare-repository", "--is-inside-work-tree", "--show-cdup"]
    try:
        found = git_exact([*args, "--absolute-git-dir"], start)
    except GitFailed as failed:
        if "not a git repository" in failed.stderr:
            message = f"{path} is not a git repository (run `git init` or pass --repo)"
            raise GitError(message) from None
        raise GitError(f"cannot read the repository at {path}: {failed.summary}") from None
    bare, in_work_tree, rest = found.split("\n", 2)
    if in_work_tree == "true":
        return (start / rest.split("\n", 1)[0]).resolve()
    git_dir = Path(rest.removesuffix("\n"))
    return (git_dir if bare == "true" else git_dir.parent).resolve()


def _repo_name(source: str) -> str:
    name = re.split(r"[/:]", source.rstrip("/"))[-1]
    return name.removesuffix(".git") or "repo"


def _cache_repo(cache_dir: Path, source: str) -> Path:
    key = hashlib.sha256(source.encode()).hexdigest()[:16]
    return cache_dir / f"{_repo_name(source)}-{key}.git"


@contextmanager
def locked_cache(cache_dir: Path, source: str) -> Iterator[Path]:
    """Create the bare cache repository if needed and hold its lock."""
    cache = _cache_repo(cache_dir, source)
    cache_dir.mkdir(parents=True, exist_ok=True)
    with open(cache.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (cache / "HEAD").exists():
            git_text(["init", "--quiet", "--bare", str(cache)])
        yield cache


def _verify_commit(repo: Path, rev: str) -> str | None:
    """The commit `rev` names in `repo`, or None; other failures (ambiguity, ownership) raise."""
    args = ["rev-parse", "--verify", "--quiet", "--end-of-options", f"{rev}^{{commit}}"]
    try:
        return git_text(args, repo)
    except GitFailed as failed:
        if failed.stderr.strip():
            raise GitError(f"{rev} in {repo}: {failed.summary}") from None
        return None


def _has_refs(repo: Path) -> bool:
    return bool(git_text(["for-each-ref", "--count=1"], repo))


def _resolve_local(top: Path, ref: str | None) -> tuple[str, str]:
    """(ref as reported, commit sha) resolved in the source repository itself."""
    if ref is None:
        sha = _verify_commit(top, "HEAD")
        if sha is None:
            raise GitError(f"{top} has no commits yet: commit something first")
        return _current_branch(top), sha
    sha = _verify_commit(top, ref)
    if sha is None:
        if not _has_refs(top):
            raise GitError(f"{top} has no commits yet: commit something first")
        raise GitError(f"ref {ref} not found in {top}")
    return ref, sha


def _current_branch(top: Path) -> str:
    try:
        return git_text(["symbolic-ref", "--quiet", "--short", "HEAD"], top)
    except GitFailed:
        return "HEAD"


def _fetch(cache: Path, source: str, refspecs: Sequence[str], options: Sequence[str] = ()) -> None:
    args = ["fetch", "--quiet", "--prune", "--no-tags", "--no-write-fetch-head", "--", source]
    try:
        git_text([*options, *args, *refspecs], cache)
    except GitFailed as failed:
        raise GitError(f"cannot fetch from {source}: {failed.summary}") from None


def _remote_head_branch(url: str) -> str | None:
    """The branch the remote's HEAD points at, or None for an empty repository."""
    try:
        listing = git_text(["ls-remote", "--symref", "--", url, "HEAD"])
    except GitFailed as failed:
        raise GitError(f"cannot reach {url}: {failed.summary}") from None
    for line in listing.splitlines():
        if line.startswith("ref: "):
            return line.removeprefix("ref: ").split("\t")[0].removeprefix("refs/heads/")
    return None


def _mirror_candidates(ref: str) -> list[str]:
    """Mirror refs `ref` may name: a branch, a tag, or `origin/<branch>`."""
    short = ref.removeprefix("refs/heads/").removeprefix("refs/tags/")
    names = [f"refs/source/heads/{short}", f"refs/source/tags/{short}"]
    remote_branch = ref.removeprefix("refs/remotes/")
    if remote_branch.startswith("origin/"):
        names.append(f"refs/source/heads/{remote_branch.removeprefix('origin/')}")
    return names


def _resolve_remote(cache: Path, url: str, ref: str) -> str:
    """The commit `ref` names in the mirrored remote; a full sha is fetched on demand."""
    for name in _mirror_candidates(ref):
        if sha := _verify_commit(cache, name):
            return sha
    if _HEX_PATTERN.match(ref) and (sha := _verify_commit(cache, ref)):
        return sha
    if len(ref) == 40 and _HEX_PATTERN.match(ref):
        try:
            git_text(
                ["fetch", "--quiet", "--no-tags", "--no-write-fetch-head", "--", url, ref], cache
            )
        except GitFailed:
            raise GitError(f"ref {ref} not found in {url}") from None
        if sha := _verify_commit(cache, ref):
            return sha
    raise GitError(f"ref {ref} not found in {url}")


def _write_bundle(cache: Path, sha: str, out_dir: Path) -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    bundle = out_dir / BUNDLE_NAME
    git_text(["update-ref", BASE_REF, sha], cache)
    git_text(["bundle", "create", "--quiet", str(bundle), BASE_REF], cache)
    return bundle


def _prepare_local(
    path: Path, ref: str | None, cache_dir: Path, out_dir: Path, uncommitted: bool
) -> PreparedSource:
    top = local_top_level(path)
    asked, resolved = _resolve_local(top, ref)
    sha = resolved
    if uncommitted:
        _require_head(top, ref, resolved)
        sha = commit_uncommitted(top, resolved)
    source = str(top)
    refspecs = [*_MIRROR_REFSPECS, f"+{sha}:{BASE_REF}"]
    if sha != resolved:
        refspecs.append(f"+{sha}:{UNCOMMITTED_REFS}{sha}")
    with locked_cache(cache_dir, source) as cache:
        _fetch(cache, source, refspecs, ANY_COMMIT if sha != resolved else ())
        bundle = _write_bundle(cache, sha, out_dir)
    return PreparedSource(bundle, sha, asked, _repo_name(source), source, is_local=True)


def _has_work_tree(top: Path) -> bool:
    return git_text(["rev-parse", "--is-inside-work-tree"], top) == "true"


def _status_paths(top: Path) -> list[str]:
    """Every path `git status` shows in the work tree at `top` (untracked ones one by one,
    ignored ones not), read without refreshing the repository's index."""
    args = ["--no-optional-locks", "status", "--porcelain", "-z", "--untracked-files=all"]
    entries = iter(git_listing(args, top))
    paths: list[str] = []
    for entry in entries:
        paths.append(entry[3:])
        if entry[0] in "RC":
            next(entries, None)
    return paths


def uncommitted_work(repo: str) -> UncommittedWork:
    """The uncommitted changes of the local repository `repo`; none for a URL, a bare
    repository or a path that is not a repository (submitting says what is wrong with it)."""
    if is_remote(repo):
        return UncommittedWork()
    try:
        top = local_top_level(Path(repo).expanduser().absolute())
        paths = _status_paths(top) if _has_work_tree(top) else []
    except GitError:
        return UncommittedWork()
    return UncommittedWork(len(paths), tuple(paths[:UNCOMMITTED_SAMPLE]))


def _require_head(top: Path, ref: str | None, sha: str) -> None:
    """GitError unless `ref` is the commit the work tree at `top` has checked out."""
    if not _has_work_tree(top):
        raise GitError(f"{top} is a bare repository: it has no uncommitted changes to include")
    head = _verify_commit(top, "HEAD")
    if ref is not None and head != sha:
        raise GitError(
            f"uncommitted changes sit on HEAD ({(head or '')[:12]}), not on {ref} "
            f"({sha[:12]}): leave out the ref to include them"
        )


def _index_path(top: Path) -> Path:
    return top / git_exact(["rev-parse", "--git-path", "index"], top).removesuffix("\n")


def commit_uncommitted(top: Path, head: str) -> str:
    """A commit on `head` of the work tree at `top` as it is: tracked changes, staged or not,
    and untracked files that are not ignored; `head` itself when there is nothing to commit.

    It is built in a temporary index (a copy of the repository's, so unchanged files are not
    read again): the person's index, work tree, stash and refs are left as they are."""
    with tempfile.TemporaryDirectory(prefix="taskyard-uncommitted-") as scratch:
        index = Path(scratch) / "index"
        if _index_path(top).exists():
            shutil.copy2(_index_path(top), index)
        else:
            git_text(["read-tree", head], top, index=index)
        git_text(["add", "--all"], top, index=index)
        tree = git_text(["write-tree"], top, index=index)
    if tree == git_text(["rev-parse", f"{head}^{{tree}}"], top):
        return head
    message = (
        "taskyard: uncommitted changes\n\nThe work tree's changes on top of this commit's "
        "parent when a taskyard task started: tracked files, staged or not, and untracked "
        "files that are not ignored.\n"
    )
    args = ["commit-tree", tree, "-p", head, "-F", "-"]
    return git_text(args, top, stdin=message.encode(), env=identity_env(top))


def _prepare_remote(url: str, ref: str | None, cache_dir: Path, out_dir: Path) -> PreparedSource:
    with locked_cache(cache_dir, url) as cache:
        _fetch(cache, url, _MIRROR_REFSPECS)
        if ref is None:
            ref = _remote_head_branch(url)
            if ref is None or not _has_refs(cache):
                raise GitError(f"{url} has no commits yet: push something first")
        sha = _resolve_remote(cache, url, ref)
        bundle = _write_bundle(cache, sha, out_dir)
    return PreparedSource(bundle, sha, ref, _repo_name(url), url, is_local=False)


def _uncommitted_from_url(url: str) -> GitError:
    return GitError(
        f"uncommitted changes are included only from a local repository, and {url} is a URL: "
        "give the path of a clone"
    )


def check_source(repo: str, ref: str | None, uncommitted: bool = False) -> None:
    """GitError unless `repo` is a local repository in which `ref` (default: HEAD) names a
    commit, or a URL that answers; nothing is fetched or bundled (a URL's ref is resolved when
    the task prepares its source). Uncommitted changes are only included from a local work
    tree, on the commit it has checked out."""
    try:
        if is_remote(repo):
            if uncommitted:
                raise _uncommitted_from_url(repo)
            _remote_head_branch(repo)
        else:
            top = local_top_level(Path(repo).expanduser().absolute())
            _, sha = _resolve_local(top, ref)
            if uncommitted:
                _require_head(top, ref, sha)
    except GitFailed as failed:
        raise GitError(f"git failed for {repo}: {failed.summary}") from None


def prepare_source(
    repo: str, ref: str | None, cache_dir: Path, out_dir: Path, uncommitted: bool = False
) -> PreparedSource:
    """Resolve `ref` (default: the source's HEAD) in `repo` and bundle its history into out_dir.

    `repo` is a path anywhere inside a work tree, or a URL. A bare cache per source under
    cache_dir is fetched into first, so repeated calls transfer only what is new. With
    `uncommitted` (a local work tree only), the work tree's changes become a commit on the ref
    (`commit_uncommitted`), which is the base the task starts from, kept in the cache.
    """
    try:
        if is_remote(repo):
            if uncommitted:
                raise _uncommitted_from_url(repo)
            return _prepare_remote(repo, ref, cache_dir, out_dir)
        local = Path(repo).expanduser().absolute()
        return _prepare_local(local, ref, cache_dir, out_dir, uncommitted)
    except GitFailed as failed:
        raise GitError(f"git failed for {repo}: {failed.summary}") from None


def _workdir_levels(workdir: str) -> list[str]:
    """Directories from the root ("") down to `workdir`, repo-relative."""
    parts = [part for part in workdir.strip("/").split("/") if part not in ("", ".")]
    if ".." in parts:
        raise GitError(f"workdir {workdir} must stay inside the repository")
    return ["/".join(parts[:depth]) for depth in range(len(parts) + 1)]


def _agents_blobs(cache: Path, sha: str, workdir: str) -> list[tuple[str, str, int]]:
    """(path, blob sha, size) of each AGENTS.md on the way to workdir, root first."""
    paths = [f"{level}/{AGENTS_FILE}".lstrip("/") for level in _workdir_levels(workdir)]
    listing = git_text(["ls-tree", "-l", "--full-tree", sha, "--", *paths], cache)
    found: dict[str, tuple[str, int]] = {}
    for line in listing.splitlines():
        meta, path = line.split("\t", 1)
        _mode, kind, blob, size = meta.split()
        if kind == "blob":
            found[path] = (blob, int(size))
    return [(path, *found[path]) for path in paths if path in found]


def _cut(data: bytes, limit: int) -> str:
    return data[:limit].decode("utf-8", errors="replace").rstrip("\ufffd")


def agents_docs(
    prepared: PreparedSource, cache_dir: Path, workdir: str = "", max_bytes: int = 32768
) -> list[AgentsDoc]:
    """Every AGENTS.md from the repo root down to `workdir` at the base commit, root first.

    Deeper files take precedence, so the byte budget `max_bytes` is spent deepest first: a file
    keeps at most what is left of it, and shallower files are truncated (possibly to nothing).
    """
    cache = _cache_repo(cache_dir, prepared.source)
    try:
        blobs = _agents_blobs(cache, prepared.base_sha, workdir)
        contents = {path: git_bytes(["cat-file", "blob", blob], cache) for path, blob, _ in blobs}
    except GitFailed as failed:
        raise GitError(f"cannot read AGENTS.md: {failed.summary}") from None
    budget = max_bytes
    docs: list[AgentsDoc] = []
    for path, _blob, size in reversed(blobs):
        keep = min(size, budget)
        budget -= keep
        docs.append(AgentsDoc(path, _cut(contents[path], keep), size, truncated=keep < size))
    return docs[::-1]


def checkout_script(
    bundle_path: str,
    repo_dir: str,
    branch: str,
    base_sha: str,
    received_bytes: int | None = None,
) -> str:
    """`sh -c` script: clone the bundle into repo_dir and check out `branch` at base_sha.

    With `received_bytes`, the bundle is first received on standard input: that many bytes
    written to bundle_path, its directory made when missing. Nothing waits for the input's end,
    and a bundle cut short fails the clone (git checks the pack's checksum)."""
    repo, q_branch = shlex.quote(repo_dir), shlex.quote(branch)
    bundle = shlex.quote(bundle_path)
    receive = (
        []
        if received_bytes is None
        else [
            f"mkdir -p {shlex.quote(bundle_path.rpartition('/')[0] or '/')}",
            f"head -c {int(received_bytes)} > {bundle}",
        ]
    )
    return "\n".join(
        [
            "set -e",
            *receive,
            "git clone --quiet --no-checkout -c user.name=taskyard "
            f"-c user.email=taskyard@localhost {bundle} {repo}",
            f"cd {repo}",
            f"git checkout --quiet -b {q_branch} {shlex.quote(base_sha)}",
            "git remote remove origin",
        ]
    )


def finish_script(repo_dir: str, branch: str, base_sha: str, message: str, out_bundle: str) -> str:
    """`sh -c` script: commit all changes to `branch` and bundle base_sha..branch.

    Whatever HEAD points at becomes `branch`, so commits the agent made elsewhere are kept.
    When the branch has no commits past base_sha the whole branch is bundled instead. Nothing
    it prints is used: the host reads the result from the bundle alone.
    """
    q_branch, base, out = shlex.quote(branch), shlex.quote(base_sha), shlex.quote(out_bundle)
    return "\n".join(
        [
            "set -e",
            f"cd {shlex.quote(repo_dir)}",
            f'if [ "$(git symbolic-ref -q HEAD)" != {shlex.quote("refs/heads/" + branch)} ]; then',
            f"  git checkout --quiet -B {q_branch}",
            "fi",
            "git add --all",
            "if ! git diff --cached --quiet; then",
            f"  git -c commit.gpgsign=false commit --quiet --no-verify -m {shlex.quote(message)}",
            "fi",
            f'if [ "$(git rev-list --count {base}..{q_branch})" -gt 0 ]; then',
            f"  git bundle create --quiet {out} {base}..{q_branch}",
            "else",
            f"  git bundle create --quiet {out} {q_branch}",
            "fi",
        ]
    )


def _refused(bundle: Path, reason: str) -> GitError:
    return GitError(f"the task's result bundle {bundle} was refused: {reason}; retry the task")


def _verified_head(top: Path, bundle: Path, branch_ref: str, base_sha: str) -> str:
    """The head of the bundle's one branch, once the bundle is checked against `top`: only
    that branch, needing only the base commit or its ancestors, and whole by `git bundle
    verify`."""
    try:
        header = read_header(bundle)
        head = branch_head(header, branch_ref)
    except OSError as error:
        raise GitError(f"cannot read the task's result bundle {bundle}: {error.strerror}") from None
    except BundleRefused as refused:
        raise _refused(bundle, str(refused)) from None
    _require_base(top, base_sha)
    for needed in header.prerequisites:
        if not _is_ancestor(top, needed, base_sha):
            reason = f"it needs commit {needed[:12]}, which is not in the history of the base"
            raise _refused(bundle, reason)
    try:
        git_text(["bundle", "verify", "--quiet", str(bundle)], top)
    except GitFailed as failed:
        raise _refused(bundle, failed.summary) from None
    return head


def fetch_base(repo: Path, cache_dir: Path, source: str, base_sha: str) -> None:
    """Bring the task's base commit into `repo` from the source's cache when `repo` lacks it
    (a commit of uncommitted changes that git gc pruned, or another clone): objects only, no
    ref. When it cannot, accepting says which commit is missing."""
    try:
        top = local_top_level(repo)
        cache = _cache_repo(cache_dir, _source_key(source))
        if _verify_commit(top, base_sha) is not None or not (cache / "HEAD").exists():
            return
        args = ["fetch", "--quiet", "--no-tags", "--no-write-fetch-head", str(cache), base_sha]
        git_text([*ANY_COMMIT, *args], top)
    except GitError:
        return


def _require_base(top: Path, base_sha: str) -> None:
    if _verify_commit(top, base_sha) is None:
        raise GitError(
            f"{top} lacks the commit the task started from ({base_sha[:12]}): fetch it "
            "(e.g. `git fetch --all`) and try again"
        )


def _is_ancestor(top: Path, commit: str, descendant: str) -> bool:
    try:
        git_text(["merge-base", "--is-ancestor", commit, descendant], top)
    except GitFailed:
        return False
    return True


def _fetch_bundle_objects(top: Path, bundle: Path, branch_ref: str) -> None:
    args = ["fetch", "--quiet", "--no-tags", "--no-write-fetch-head", str(bundle), branch_ref]
    try:
        git_text(args, top)
    except GitFailed as failed:
        missing = _SHA_PATTERN.findall(failed.stderr)
        if "prerequisite" in failed.stderr and missing:
            raise GitError(
                f"{top} lacks the commit the task started from ({missing[0][:12]}): fetch it "
                "(e.g. `git fetch --all`) and try again"
            ) from None
        raise GitError(f"cannot import {bundle}: {failed.summary}") from None


def create_branch(top: Path, new_branch: str, sha: str) -> None:
    """Create `new_branch` at `sha` in the repository at `top`; GitError if it exists."""
    try:
        git_text(
            ["update-ref", "-m", "taskyard: import task", f"refs/heads/{new_branch}", sha, ""], top
        )
    except GitFailed:
        raise GitError(_branch_exists(top, new_branch)) from None


def _branch_exists(top: Path, branch: str) -> str:
    return f"branch {branch} already exists in {top}: choose another with --branch"


def check_new_branch(top: Path, new_branch: str) -> None:
    """GitError unless `new_branch` is a valid name not yet taken in `top`."""
    check_branch_name(top, new_branch)
    if branch_tip(top, new_branch):
        raise GitError(_branch_exists(top, new_branch))


def branch_tip(top: Path, branch: str) -> str | None:
    """The commit local branch `branch` points at in `top`; None when there is no such branch."""
    return _verify_commit(top, f"refs/heads/{branch}")


def is_ancestor(top: Path, commit: str, descendant: str) -> bool:
    """Whether `commit` is `descendant` or one of its ancestors in `top`."""
    return _is_ancestor(top, commit, descendant)


def commits_missing(top: Path, tip: str, result: str) -> int:
    """How many commits reachable from `tip` are not in the history of `result`."""
    return int(git_text(["rev-list", "--count", f"{result}..{tip}"], top))


def checked_out_at(top: Path, branch: str) -> Path | None:
    """The work tree (the repository's own or one of its `git worktree`s) that has `branch`
    checked out; None when none has."""
    args = ["for-each-ref", "--format=%(worktreepath)", f"refs/heads/{branch}"]
    where = git_exact(args, top).removesuffix("\n")
    return Path(where) if where else None


def move_branch(top: Path, branch: str, sha: str, old_sha: str) -> None:
    """Move `branch` from `old_sha` to `sha`; GitError, nothing moved, when it no longer
    points at `old_sha`."""
    args = ["update-ref", "-m", "taskyard: fast-forward to the task's result"]
    try:
        git_text([*args, f"refs/heads/{branch}", sha, old_sha], top)
    except GitFailed:
        raise GitError(f"branch {branch} moved meanwhile: it was not moved; try again") from None


def free_branch_name(top: Path, branch: str) -> str:
    """`branch-2`, `branch-3`, ...: the first of them that names no branch in `top`."""
    number = 2
    while branch_tip(top, f"{branch}-{number}") is not None:
        number += 1
    return f"{branch}-{number}"


def check_branch_name(top: Path, branch: str) -> None:
    """GitError unless `branch` is a valid branch name."""
    try:
        git_text(["check-ref-format", "--branch", branch], top)
    except GitFailed:
        raise GitError(f"{branch} is not a valid branch name") from None


def fetch_result(repo: Path, bundle: Path, task_branch: str, base_sha: str) -> tuple[Path, str]:
    """Verify the bundle of a task that started at base_sha and fetch the objects of its
    `task_branch` into `repo`: no ref, index or file changes. Returns (the repository's top
    level, the branch's head sha, taken from the bundle's refs); GitError when the bundle is
    not what a result must be."""
    top = local_top_level(repo)
    branch_ref = task_branch if task_branch.startswith("refs/") else f"refs/heads/{task_branch}"
    sha = _verified_head(top, bundle, branch_ref, base_sha)
    _fetch_bundle_objects(top, bundle, branch_ref)
    if _verify_commit(top, sha) != sha:
        raise _refused(bundle, f"its branch points at {sha[:12]}, which is not a commit")
    return top, sha


def result_diff(repo: Path, base_sha: str, head_sha: str) -> str:
    """The exact diff from base_sha to head_sha, whatever the user's git config says; bytes
    that are not UTF-8 survive as surrogate escapes."""
    args = [*_PINNED_CONFIG, "diff", *_DIFF_OPTIONS, *_RESULT_DIFF_OPTIONS, base_sha, head_sha]
    try:
        return git_exact([*args, "--"], repo)
    except GitFailed as failed:
        raise GitError(f"cannot diff the task's result: {failed.summary}") from None


@contextmanager
def source_cache(repo: str, cache_dir: Path, base_sha: str) -> Iterator[Path]:
    """The locked cache of a task's source, fetched from the source first when it lacks the
    task's base commit."""
    source = _source_key(repo)
    with locked_cache(cache_dir, source) as cache:
        if _verify_commit(cache, base_sha) is None:
            _fetch(cache, source, _MIRROR_REFSPECS)
        yield cache


EMPTY_TREE = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"
_NO_BLOB = "0" * 40


@dataclass(frozen=True)
class ChangedBlob:
    """A file a commit adds or changes: its path, and its content's blob before and after
    (the before is empty for a new file)."""

    path: str
    old_blob: str
    new_blob: str


def commits_between(repo: Path, base_sha: str, head_sha: str) -> list[tuple[str, str]]:
    """Each commit in base_sha..head_sha, oldest first, with its first parent (the empty tree
    for a root commit)."""
    try:
        listing = git_text(["rev-list", "--reverse", "--parents", f"{base_sha}..{head_sha}"], repo)
    except GitFailed as failed:
        raise GitError(f"cannot list the task's commits: {failed.summary}") from None
    pairs = [line.split() for line in listing.splitlines()]
    return [(shas[0], shas[1] if len(shas) > 1 else EMPTY_TREE) for shas in pairs]


def changed_blobs(repo: Path, parent: str, commit: str) -> list[ChangedBlob]:
    """The files `commit` adds or changes against `parent`, symlinks included, in tree order."""
    args = ["diff-tree", "-r", "-z", "--no-renames", "--no-commit-id", parent, commit]
    try:
        fields = git_listing(args, repo)
    except GitFailed as failed:
        raise GitError(f"cannot list commit {commit[:12]}: {failed.summary}") from None
    changed: list[ChangedBlob] = []
    for meta, path in zip(fields[0::2], fields[1::2], strict=True):
        _old_mode, new_mode, old_blob, new_blob, _status = meta.lstrip(":").split()
        if new_blob != _NO_BLOB and new_mode[:2] in ("10", "12"):
            old = "" if old_blob == _NO_BLOB else old_blob
            changed.append(ChangedBlob(path, old, new_blob))
    return changed


def object_bytes(repo: Path, kind: str, sha: str) -> bytes:
    """The raw content of an object of `kind`: a blob's bytes, a commit's headers and
    message."""
    try:
        return git_bytes(["cat-file", kind, sha], repo)
    except GitFailed as failed:
        raise GitError(f"cannot read object {sha[:12]}: {failed.summary}") from None


def squash_commit(repo: Path, base_sha: str, head_sha: str, message: str) -> str:
    """A new commit on base_sha with head_sha's tree: the net change as one commit."""
    args = ["commit-tree", f"{head_sha}^{{tree}}", "-p", base_sha, "-m", message]
    try:
        return git_text(args, repo, env=identity_env(repo))
    except GitFailed as failed:
        raise GitError(f"cannot squash the task's commits: {failed.summary}") from None


FALLBACK_IDENTITY = {
    "GIT_AUTHOR_NAME": "taskyard",
    "GIT_AUTHOR_EMAIL": "taskyard@localhost",
    "GIT_COMMITTER_NAME": "taskyard",
    "GIT_COMMITTER_EMAIL": "taskyard@localhost",
}
"""Who a commit taskyard makes on the host is by, in a repository with no identity of its own."""


def identity_env(repo: Path) -> dict[str, str]:
    """FALLBACK_IDENTITY for a commit in `repo` when git has no identity there, else nothing."""
    try:
        git_text(["var", "GIT_COMMITTER_IDENT"], repo)
    except GitFailed:
        return dict(FALLBACK_IDENTITY)
    return {}


def _source_key(repo: str) -> str:
    """The source as prepare_source names its cache: a URL, or a work tree's top level."""
    return repo if is_remote(repo) else str(local_top_level(Path(repo).expanduser().absolute()))


def read_file_at(
    repo: str, cache_dir: Path, sha: str, path: str, result: tuple[Path, str] | None = None
) -> bytes | None:
    """The content of `path` at commit `sha` of a task's source, or None when it is not a file
    there. Objects come from the source's cache, after fetching the task's (bundle, branch)
    `result` into it when the commit is not there yet."""
    try:
        with locked_cache(cache_dir, _source_key(repo)) as cache:
            if result is not None and _verify_commit(cache, sha) is None:
                bundle, branch = result
                _fetch_bundle_objects(cache, bundle, f"refs/heads/{branch}")
            return git_bytes(["cat-file", "blob", f"{sha}:{path}"], cache)
    except GitError:
        return None


def import_result(
    repo: Path, bundle: Path, task_branch: str, base_sha: str, new_branch: str
) -> str:
    """Create `new_branch` in `repo` at the bundle's `task_branch`; return its head sha.

    Only objects and the new ref are written: the working tree, the index and the current
    branch are left exactly as they are.
    """
    check_new_branch(local_top_level(repo), new_branch)
    top, sha = fetch_result(repo, bundle, task_branch, base_sha)
    create_branch(top, new_branch, sha)
    return sha
