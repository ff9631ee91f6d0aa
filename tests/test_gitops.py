"""engine.git.gitops against real git repositories made in tmp_path."""

from __future__ import annotations

import os
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from engine.git.gitops import (
    BASE_REF,
    GitError,
    PreparedSource,
    agents_docs,
    checkout_script,
    fetch_base,
    finish_script,
    identity_env,
    import_result,
    local_top_level,
    prepare_source,
    read_file_at,
    result_diff,
    squash_commit,
    uncommitted_work,
)
from engine.views.diffstat import FileStat, diff_stat
from engine.views.request import UncommittedWork, is_remote
from tests.support.repos import GIT_IDENTITY, isolate_git
from tests.support.results import tree_state


@pytest.fixture(autouse=True)
def isolated_git(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    isolate_git(tmp_path, monkeypatch)


def git(cwd: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=True)
    return done.stdout.strip()


def commit_file(repo: Path, name: str, text: str, message: str) -> str:
    path = repo / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    git(repo, "add", name)
    git(repo, "commit", "-q", "-m", message)
    return git(repo, "rev-parse", "HEAD")


@pytest.fixture
def source(tmp_path: Path) -> Path:
    """main: one -> two (tag v1 on one, annotated); side: one -> side."""
    repo = tmp_path / "project"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    commit_file(repo, "a.txt", "one\n", "one")
    git(repo, "tag", "-a", "v1", "-m", "version 1")
    git(repo, "branch", "side")
    commit_file(repo, "src/pkg/b.txt", "two\n", "two")
    git(repo, "checkout", "-q", "side")
    commit_file(repo, "side.txt", "side\n", "side")
    git(repo, "checkout", "-q", "main")
    return repo


@pytest.fixture
def remote(tmp_path: Path, source: Path) -> str:
    bare = tmp_path / "remote.git"
    git(tmp_path, "clone", "-q", "--bare", str(source), str(bare))
    return f"file://{bare}"


def prepare(repo: str | Path, ref: str | None, tmp_path: Path) -> PreparedSource:
    return prepare_source(str(repo), ref, tmp_path / "cache", tmp_path / "out")


def clone_bundle(bundle: Path, dest: Path) -> Path:
    git(bundle.parent, "clone", "-q", "--no-checkout", str(bundle), str(dest))
    return dest


def test_local_default_is_head_with_full_history(tmp_path: Path, source: Path) -> None:
    prepared = prepare(source, None, tmp_path)
    assert prepared.base_sha == git(source, "rev-parse", "HEAD")
    assert (prepared.ref, prepared.repo_name, prepared.is_local) == ("main", "project", True)
    assert prepared.source == str(source.resolve())
    assert prepared.bundle_path == tmp_path / "out" / "base.bundle"
    clone = clone_bundle(prepared.bundle_path, tmp_path / "clone")
    assert git(clone, "rev-parse", "refs/remotes/origin/taskyard-base") == prepared.base_sha
    assert git(clone, "rev-list", "--count", prepared.base_sha) == "2"


def test_bundle_has_one_ref(tmp_path: Path, source: Path) -> None:
    prepared = prepare(source, "side", tmp_path)
    heads = git(tmp_path, "bundle", "list-heads", str(prepared.bundle_path))
    assert heads == f"{prepared.base_sha} {BASE_REF}"


def test_subdirectory_resolves_to_top_level(tmp_path: Path, source: Path) -> None:
    prepared = prepare(source / "src" / "pkg", None, tmp_path)
    assert prepared.source == str(source.resolve())
    assert prepared.repo_name == "project"


def test_top_level_of_every_place_in_a_repository(tmp_path: Path, source: Path) -> None:
    bare = tmp_path / "bare.git"
    git(tmp_path, "clone", "-q", "--bare", str(source), str(bare))
    linked = tmp_path / "linked wörk\ntree"
    git(source, "worktree", "add", "-q", str(linked), "side")
    (tmp_path / "link").symlink_to(source / "src")
    places = {
        source / "src" / "pkg" / "b.txt": source,
        source / ".git" / "refs": source,
        tmp_path / "link" / "pkg": source,
        bare / "refs": bare,
        linked / "side.txt": linked,
    }
    for place, top in places.items():
        assert local_top_level(place) == top.resolve(), place


@pytest.mark.parametrize("ref", ["side", "v1", "refs/heads/side", "main~1"])
def test_local_refs_resolve(tmp_path: Path, source: Path, ref: str) -> None:
    prepared = prepare(source, ref, tmp_path)
    assert prepared.base_sha == git(source, "rev-parse", f"{ref}^{{commit}}")
    assert prepared.ref == ref


def test_local_short_and_unreferenced_sha(tmp_path: Path, source: Path) -> None:
    tree = git(source, "rev-parse", "HEAD^{tree}")
    dangling = git(source, "commit-tree", tree, "-p", "HEAD", "-m", "dangling")
    prepared = prepare(source, dangling[:8], tmp_path)
    assert prepared.base_sha == dangling
    clone = clone_bundle(prepared.bundle_path, tmp_path / "clone")
    assert git(clone, "log", "-1", "--format=%s", dangling) == "dangling"


def test_local_remote_tracking_branch(tmp_path: Path, source: Path, remote: str) -> None:
    work = tmp_path / "work"
    git(tmp_path, "clone", "-q", remote, str(work))
    prepared = prepare(work, "origin/side", tmp_path)
    assert prepared.base_sha == git(source, "rev-parse", "side")


def test_detached_head_reports_head(tmp_path: Path, source: Path) -> None:
    git(source, "checkout", "-q", "--detach", "side")
    prepared = prepare(source, None, tmp_path)
    assert (prepared.ref, prepared.base_sha) == ("HEAD", git(source, "rev-parse", "side"))


def test_local_cache_is_reused_and_refreshed(tmp_path: Path, source: Path) -> None:
    first = prepare(source, None, tmp_path)
    newer = commit_file(source, "c.txt", "three\n", "three")
    second = prepare(source, None, tmp_path)
    assert (first.base_sha != second.base_sha, second.base_sha) == (True, newer)
    assert len(list((tmp_path / "cache").glob("*.git"))) == 1


def test_missing_path(tmp_path: Path) -> None:
    with pytest.raises(GitError, match=r"nowhere does not exist"):
        prepare(tmp_path / "nowhere", None, tmp_path)


def test_not_a_repository(tmp_path: Path) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    with pytest.raises(GitError, match=r"plain is not a git repository \(run `git init`"):
        prepare(plain, None, tmp_path)


@pytest.mark.parametrize("ref", [None, "main"])
def test_repository_without_commits(tmp_path: Path, ref: str | None) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    git(empty, "init", "-q")
    with pytest.raises(GitError, match="has no commits yet"):
        prepare(empty, ref, tmp_path)


@pytest.mark.parametrize("ref", ["nope", "deadbeef", "-x"])
def test_local_unknown_ref(tmp_path: Path, source: Path, ref: str) -> None:
    with pytest.raises(GitError, match=f"ref {ref} not found in {source}"):
        prepare(source, ref, tmp_path)


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to give the repository away")
def test_foreign_owner_is_reported(tmp_path: Path, source: Path) -> None:
    for path in [source, *source.rglob("*")]:
        os.chown(path, 65534, 65534, follow_symlinks=False)
    with pytest.raises(GitError, match="dubious ownership"):
        prepare(source, None, tmp_path)


def test_remote_default_branch(tmp_path: Path, source: Path, remote: str) -> None:
    prepared = prepare(remote, None, tmp_path)
    assert prepared.base_sha == git(source, "rev-parse", "main")
    assert (prepared.ref, prepared.repo_name, prepared.is_local) == ("main", "remote", False)
    assert prepared.source == remote
    clone = clone_bundle(prepared.bundle_path, tmp_path / "clone")
    assert git(clone, "rev-list", "--count", prepared.base_sha) == "2"


@pytest.mark.parametrize(
    ("ref", "expected"),
    [
        ("side", "side"),
        ("v1", "v1^{commit}"),
        ("origin/side", "side"),
        ("refs/tags/v1", "v1~0"),
        ("refs/remotes/origin/side", "side"),
    ],
)
def test_remote_refs_resolve(
    tmp_path: Path, source: Path, remote: str, ref: str, expected: str
) -> None:
    prepared = prepare(remote, ref, tmp_path)
    assert prepared.base_sha == git(source, "rev-parse", expected)


def test_remote_shas(tmp_path: Path, source: Path, remote: str) -> None:
    short = git(source, "rev-parse", "--short", "side")
    assert prepare(remote, short, tmp_path).base_sha == git(source, "rev-parse", "side")
    bare = Path(remote.removeprefix("file://"))
    tree = git(bare, "rev-parse", "main^{tree}")
    unadvertised = git(bare, "commit-tree", tree, "-p", "main", "-m", "hidden")
    assert prepare(remote, unadvertised, tmp_path).base_sha == unadvertised


@pytest.mark.parametrize("ref", ["nope", "0" * 40, "feature/side"])
def test_remote_unknown_ref(tmp_path: Path, remote: str, ref: str) -> None:
    with pytest.raises(GitError, match=f"ref {ref} not found in {remote}"):
        prepare(remote, ref, tmp_path)


@pytest.mark.parametrize(
    ("url", "summary"),
    [
        ("file://{tmp}/missing.git", "does not appear to be a git repository"),
        ("ssh://127.0.0.1:1/x.git", "ssh: connect to host 127.0.0.1 port 1: Connection refused"),
        ("https://127.0.0.1:1/x.git", "Failed to connect to 127.0.0.1 port 1"),
    ],
)
def test_remote_unreachable(tmp_path: Path, url: str, summary: str) -> None:
    url = url.format(tmp=tmp_path)
    with pytest.raises(GitError) as raised:
        prepare(url, None, tmp_path)
    message = str(raised.value)
    assert message.startswith(f"cannot fetch from {url}: ")
    assert summary in message
    assert "\n" not in message and "Please make sure" not in message


def test_concurrent_prepares_share_one_cache(tmp_path: Path, source: Path) -> None:
    refs = ["main", "side", "v1", "main~1"] * 2
    with ThreadPoolExecutor(max_workers=4) as pool:
        prepared = list(
            pool.map(
                lambda pair: prepare_source(
                    str(source), pair[1], tmp_path / "cache", tmp_path / f"out{pair[0]}"
                ),
                enumerate(refs),
            )
        )
    for index, (ref, result) in enumerate(zip(refs, prepared, strict=True)):
        heads = git(tmp_path, "bundle", "list-heads", str(result.bundle_path))
        assert heads == f"{git(source, 'rev-parse', ref + '^{commit}')} {BASE_REF}", index


def test_remote_without_commits(tmp_path: Path) -> None:
    bare = tmp_path / "empty.git"
    git(tmp_path, "init", "-q", "--bare", str(bare))
    with pytest.raises(GitError, match="has no commits yet"):
        prepare(f"file://{bare}", None, tmp_path)


@pytest.mark.parametrize(
    ("repo", "remote"),
    [
        ("https://github.com/o/r.git", True),
        ("ssh://git@host/o/r", True),
        ("file:///srv/r.git", True),
        ("git@github.com:o/r.git", True),
        ("/home/me/r", False),
        ("relative/dir", False),
        ("./x:y", False),
    ],
)
def test_is_remote(repo: str, remote: bool) -> None:
    assert is_remote(repo) is remote


@pytest.fixture
def nested_docs(tmp_path: Path, source: Path) -> PreparedSource:
    commit_file(source, "AGENTS.md", "root rules\n", "root doc")
    commit_file(source, "src/AGENTS.md", "src rules\n", "src doc")
    commit_file(source, "src/pkg/AGENTS.md", "pkg rules\n", "pkg doc")
    commit_file(source, "other/AGENTS.md", "other rules\n", "other doc")
    (source / "AGENTS.md").write_text("uncommitted edit\n")
    return prepare(source, None, tmp_path)


@pytest.mark.parametrize(
    ("workdir", "paths"),
    [
        ("", ["AGENTS.md"]),
        ("src", ["AGENTS.md", "src/AGENTS.md"]),
        ("./src/pkg/", ["AGENTS.md", "src/AGENTS.md", "src/pkg/AGENTS.md"]),
        ("src/pkg/deeper", ["AGENTS.md", "src/AGENTS.md", "src/pkg/AGENTS.md"]),
        ("other", ["AGENTS.md", "other/AGENTS.md"]),
    ],
)
def test_agents_docs_root_first(
    tmp_path: Path, nested_docs: PreparedSource, workdir: str, paths: list[str]
) -> None:
    docs = agents_docs(nested_docs, tmp_path / "cache", workdir)
    assert [doc.path for doc in docs] == paths
    assert docs[0].content == "root rules\n"
    assert not any(doc.truncated for doc in docs)


def test_agents_docs_budget_spent_deepest_first(
    tmp_path: Path, nested_docs: PreparedSource
) -> None:
    docs = agents_docs(nested_docs, tmp_path / "cache", "src/pkg", max_bytes=15)
    assert [(doc.content, doc.truncated) for doc in docs] == [
        ("", True),
        ("src r", True),
        ("pkg rules\n", False),
    ]
    assert [doc.size for doc in docs] == [11, 10, 10]


def test_agents_docs_single_file_cap_keeps_utf8_whole(tmp_path: Path, source: Path) -> None:
    commit_file(source, "AGENTS.md", "ab\u00e9cd\n", "accented doc")
    prepared = prepare(source, None, tmp_path)
    (doc,) = agents_docs(prepared, tmp_path / "cache", max_bytes=3)
    assert (doc.content, doc.truncated, doc.size) == ("ab", True, 7)


def test_agents_docs_none_and_outside(tmp_path: Path, source: Path) -> None:
    prepared = prepare(source, None, tmp_path)
    assert agents_docs(prepared, tmp_path / "cache", "src") == []
    with pytest.raises(GitError, match="must stay inside"):
        agents_docs(prepared, tmp_path / "cache", "../etc")


def run_script(script: str) -> str:
    done = subprocess.run(["sh", "-c", script], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.fixture
def sandbox_repo(
    tmp_path: Path, source: Path, monkeypatch: pytest.MonkeyPatch
) -> tuple[PreparedSource, Path]:
    """The bundle checked out by checkout_script, as the container would, without identity env."""
    prepared = prepare(source, None, tmp_path)
    for name in GIT_IDENTITY:
        monkeypatch.delenv(name)
    repo_dir = tmp_path / "sand box" / "repo"
    repo_dir.parent.mkdir()
    run_script(
        checkout_script(str(prepared.bundle_path), str(repo_dir), "taskyard/t1", prepared.base_sha)
    )
    return prepared, repo_dir


def test_checkout_script(sandbox_repo: tuple[PreparedSource, Path]) -> None:
    prepared, repo_dir = sandbox_repo
    assert git(repo_dir, "symbolic-ref", "HEAD") == "refs/heads/taskyard/t1"
    assert git(repo_dir, "rev-parse", "HEAD") == prepared.base_sha
    assert git(repo_dir, "config", "user.name") == "taskyard"
    assert git(repo_dir, "config", "user.email") == "taskyard@localhost"
    assert git(repo_dir, "remote") == ""
    assert git(repo_dir, "for-each-ref", "--format=%(refname)") == "refs/heads/taskyard/t1"
    assert (repo_dir / "src" / "pkg" / "b.txt").read_text() == "two\n"
    assert git(repo_dir, "status", "--porcelain") == ""


def test_checkout_script_receives_the_bundle_on_its_input(tmp_path: Path, source: Path) -> None:
    prepared = prepare(source, None, tmp_path)
    inbox, repo_dir = tmp_path / "sandbox" / "inbox", tmp_path / "sandbox" / "repo"
    script = checkout_script(
        str(inbox / "base.bundle"),
        str(repo_dir),
        "taskyard/t1",
        prepared.base_sha,
        received_bytes=prepared.bundle_path.stat().st_size,
    )
    with prepared.bundle_path.open("rb") as bundle:
        done = subprocess.run(["sh", "-c", script], stdin=bundle, capture_output=True, check=False)
    assert done.returncode == 0, done.stderr
    assert (inbox / "base.bundle").read_bytes() == prepared.bundle_path.read_bytes()
    assert git(repo_dir, "rev-parse", "HEAD") == prepared.base_sha
    assert git(repo_dir, "status", "--porcelain") == ""


def test_checkout_script_fails_on_a_bundle_cut_short(tmp_path: Path, source: Path) -> None:
    prepared = prepare(source, None, tmp_path)
    size = prepared.bundle_path.stat().st_size
    script = checkout_script(
        str(tmp_path / "inbox" / "base.bundle"),
        str(tmp_path / "repo"),
        "taskyard/t1",
        prepared.base_sha,
        received_bytes=size,
    )
    cut = prepared.bundle_path.read_bytes()[: size - 30]
    done = subprocess.run(["sh", "-c", script], input=cut, capture_output=True, check=False)
    assert done.returncode != 0
    assert not (tmp_path / "repo" / "a.txt").exists()


def agent_edits(repo_dir: Path) -> None:
    (repo_dir / "a.txt").write_text("one\nchanged\n")
    (repo_dir / "src" / "pkg" / "b.txt").unlink()
    (repo_dir / "new file.txt").write_text("new\n")
    (repo_dir / "blob.bin").write_bytes(bytes(range(256)))


def test_finish_script_commits_and_bundles(
    tmp_path: Path, sandbox_repo: tuple[PreparedSource, Path]
) -> None:
    prepared, repo_dir = sandbox_repo
    agent_edits(repo_dir)
    out = tmp_path / "result.bundle"
    message = "Fix it: 'quotes' & $HOME `ticks`"
    printed = run_script(
        finish_script(str(repo_dir), "taskyard/t1", prepared.base_sha, message, str(out))
    )
    assert printed == ""
    head = git(repo_dir, "rev-parse", "HEAD")
    assert (
        git(repo_dir, "log", "-1", "--format=%s|%an|%ae")
        == f"{message}|taskyard|taskyard@localhost"
    )
    assert git(repo_dir, "status", "--porcelain") == ""
    verified = git(repo_dir, "bundle", "verify", str(out))
    assert f"requires this ref:\n{prepared.base_sha}" in verified
    assert f"{head} refs/heads/taskyard/t1" in verified
    diff = result_diff(repo_dir, prepared.base_sha, head)
    assert diff_stat(diff) == [
        FileStat("a.txt", 1, 0, False),
        FileStat("blob.bin", 0, 0, True),
        FileStat("new file.txt", 1, 0, False),
        FileStat("src/pkg/b.txt", 0, 1, False),
    ]


def test_finish_script_without_changes_bundles_branch(
    tmp_path: Path, sandbox_repo: tuple[PreparedSource, Path]
) -> None:
    prepared, repo_dir = sandbox_repo
    out = tmp_path / "result.bundle"
    run_script(finish_script(str(repo_dir), "taskyard/t1", prepared.base_sha, "m", str(out)))
    heads = git(tmp_path, "bundle", "list-heads", str(out))
    assert heads == f"{prepared.base_sha} refs/heads/taskyard/t1"


def test_finish_script_keeps_commits_made_on_detached_head(
    tmp_path: Path, sandbox_repo: tuple[PreparedSource, Path]
) -> None:
    prepared, repo_dir = sandbox_repo
    git(repo_dir, "checkout", "-q", "--detach")
    agent_commit = commit_file(repo_dir, "x.txt", "x\n", "agent commit")
    (repo_dir / "y.txt").write_text("y\n")
    out = tmp_path / "result.bundle"
    run_script(finish_script(str(repo_dir), "taskyard/t1", prepared.base_sha, "m", str(out)))
    assert git(repo_dir, "rev-parse", "HEAD~1") == agent_commit
    assert git(repo_dir, "rev-parse", "taskyard/t1") == git(repo_dir, "rev-parse", "HEAD")


@pytest.fixture
def task_bundle(
    tmp_path: Path, sandbox_repo: tuple[PreparedSource, Path]
) -> tuple[PreparedSource, Path, str]:
    prepared, repo_dir = sandbox_repo
    agent_edits(repo_dir)
    out = tmp_path / "result.bundle"
    run_script(finish_script(str(repo_dir), "taskyard/t1", prepared.base_sha, "m", str(out)))
    return prepared, out, git(repo_dir, "rev-parse", "HEAD")


def snapshot(repo: Path) -> tuple[str, ...]:
    return (
        git(repo, "status", "--porcelain", "--untracked-files=all"),
        git(repo, "diff"),
        git(repo, "diff", "--cached"),
        git(repo, "symbolic-ref", "HEAD"),
        git(repo, "rev-parse", "HEAD"),
        (repo / "a.txt").read_text(),
    )


def test_import_result_leaves_work_untouched(
    source: Path, task_bundle: tuple[PreparedSource, Path, str]
) -> None:
    prepared, bundle, head = task_bundle
    (source / "a.txt").write_text("local edit\n")
    (source / "staged.txt").write_text("staged\n")
    git(source, "add", "staged.txt")
    (source / "untracked.txt").write_text("mine\n")
    before = snapshot(source)
    imported = import_result(
        source / "src", bundle, "taskyard/t1", prepared.base_sha, "taskyard/accepted"
    )
    assert imported == head
    assert snapshot(source) == before
    assert git(source, "rev-parse", "taskyard/accepted") == head
    assert git(source, "show", "taskyard/accepted:a.txt") == "one\nchanged"


def test_import_result_refuses_existing_branch(
    source: Path, task_bundle: tuple[PreparedSource, Path, str]
) -> None:
    prepared, bundle, _head = task_bundle
    before = git(source, "rev-parse", "side")
    for existing in ("side", "main"):
        with pytest.raises(GitError, match=f"branch {existing} already exists in .*--branch"):
            import_result(source, bundle, "taskyard/t1", prepared.base_sha, existing)
    assert git(source, "rev-parse", "side") == before


def test_import_result_bad_names(
    source: Path, task_bundle: tuple[PreparedSource, Path, str]
) -> None:
    prepared, bundle, _head = task_bundle
    base = prepared.base_sha
    with pytest.raises(GitError, match="not a valid branch name"):
        import_result(source, bundle, "taskyard/t1", base, "bad..name")
    with pytest.raises(GitError, match="must hold only the ref refs/heads/taskyard/other"):
        import_result(source, bundle, "taskyard/other", base, "fresh")


def test_import_result_missing_base(
    tmp_path: Path, task_bundle: tuple[PreparedSource, Path, str]
) -> None:
    prepared, bundle, _head = task_bundle
    unrelated = tmp_path / "unrelated"
    unrelated.mkdir()
    git(unrelated, "init", "-q", "-b", "main")
    git(unrelated, "config", "user.name", "Someone")
    git(unrelated, "config", "user.email", "someone@example.com")
    commit_file(unrelated, "z.txt", "z\n", "z")
    message = f"lacks the commit the task started from \\({prepared.base_sha[:12]}\\)"
    with pytest.raises(GitError, match=message):
        import_result(unrelated, bundle, "taskyard/t1", prepared.base_sha, "fresh")
    assert git(unrelated, "branch", "--list", "fresh") == ""


TRICKY_DIFF = """\
diff --git a/old name.py b/new name.py
similarity index 80%
rename from old name.py
rename to new name.py
index 1111111..2222222 100644
--- a/old name.py
+++ b/new name.py\t
@@ -1,3 +1,3 @@
 keep
---- a line that starts with dashes
++++ a line that starts with pluses
\\ No newline at end of file
diff --git "a/caf\\303\\251 \\"q\\".txt" "b/caf\\303\\251 \\"q\\".txt"
new file mode 100644
index 0000000..3333333
--- /dev/null
+++ "b/caf\\303\\251 \\"q\\".txt"
@@ -0,0 +1,2 @@
+x
+y
diff --git a/gone.txt b/gone.txt
deleted file mode 100644
index 4444444..0000000
--- a/gone.txt
+++ /dev/null
@@ -1 +0,0 @@
-bye
diff --git a/img.png b/img.png
index 5555555..6666666 100644
Binary files a/img.png and b/img.png differ
"""


def test_diff_stat_edge_cases() -> None:
    assert diff_stat(TRICKY_DIFF) == [
        FileStat("new name.py", 1, 1, False),
        FileStat('café "q".txt', 2, 0, False),
        FileStat("gone.txt", 0, 1, False),
        FileStat("img.png", 0, 0, True),
    ]
    assert diff_stat("") == []


def test_read_file_at_the_result_and_at_the_base(
    tmp_path: Path, source: Path, task_bundle: tuple[PreparedSource, Path, str]
) -> None:
    prepared, bundle, head = task_bundle
    cache = tmp_path / "cache"
    result = (bundle, "taskyard/t1")
    assert read_file_at(str(source), cache, head, "a.txt", result) == b"one\nchanged\n"
    assert read_file_at(str(source), cache, head, "new file.txt", result) == b"new\n"
    assert read_file_at(str(source), cache, head, "src/pkg/b.txt", result) is None
    assert read_file_at(str(source), cache, prepared.base_sha, "src/pkg/b.txt") == b"two\n"
    assert read_file_at(str(source), cache, head, "../outside", result) is None
    assert read_file_at(str(tmp_path / "gone"), cache, head, "a.txt", result) is None


def test_a_squash_in_a_repository_without_identity_is_by_taskyard(
    source: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert identity_env(source) == {}
    for name in GIT_IDENTITY:
        monkeypatch.delenv(name)
    git(source, "config", "user.useConfigOnly", "true")
    assert identity_env(source)["GIT_COMMITTER_EMAIL"] == "taskyard@localhost"
    squashed = squash_commit(source, git(source, "rev-parse", "main~1"), "main", "both")
    by = git(source, "log", "-1", "--format=%an <%ae>|%cn <%ce>|%s", squashed)
    assert by == "taskyard <taskyard@localhost>|taskyard <taskyard@localhost>|both"
    trees = {git(source, "rev-parse", f"{commit}^{{tree}}") for commit in (squashed, "main")}
    assert len(trees) == 1


def uncommitted_changes(repo: Path) -> None:
    """A modified file, a staged one, an untracked one, and an ignored one."""
    commit_file(repo, ".gitignore", "*.log\n", "ignore logs")
    (repo / "a.txt").write_text("one, edited\n")
    (repo / "src/pkg/b.txt").write_text("two, staged\n")
    git(repo, "add", "src/pkg/b.txt")
    (repo / "notes" / "new.txt").parent.mkdir()
    (repo / "notes" / "new.txt").write_text("untracked\n")
    (repo / "build.log").write_text("ignored\n")


def test_uncommitted_changes_ship_as_a_commit_on_head(tmp_path: Path, source: Path) -> None:
    uncommitted_changes(source)
    before, refs = tree_state(source), git(source, "for-each-ref")
    assert uncommitted_work(str(source)) == UncommittedWork(
        3, ("a.txt", "src/pkg/b.txt", "notes/new.txt")
    )
    prepared = prepare_source(str(source), None, tmp_path / "cache", tmp_path / "out", True)
    head = git(source, "rev-parse", "HEAD")
    assert prepared.base_sha != head and prepared.ref == "main"
    assert tree_state(source) == before and git(source, "for-each-ref") == refs
    assert git(source, "stash", "list") == ""
    clone = clone_bundle(prepared.bundle_path, tmp_path / "clone")
    base = prepared.base_sha
    assert git(clone, "rev-parse", f"{base}~1") == head
    assert git(clone, "show", f"{base}:a.txt") == "one, edited"
    assert git(clone, "show", f"{base}:src/pkg/b.txt") == "two, staged"
    assert git(clone, "show", f"{base}:notes/new.txt") == "untracked"
    assert "build.log" not in git(clone, "ls-tree", "-r", "--name-only", base)
    assert git(clone, "log", "-1", "--format=%s", base) == "taskyard: uncommitted changes"
    cache = next((tmp_path / "cache").glob("*.git"))
    assert git(cache, "rev-parse", f"refs/taskyard/uncommitted/{base}") == base


def test_a_base_of_uncommitted_changes_comes_back_from_the_cache(
    tmp_path: Path, source: Path
) -> None:
    (source / "a.txt").write_text("edited\n")
    prepared = prepare_source(str(source), None, tmp_path / "cache", tmp_path / "out", True)
    other = tmp_path / "other"
    git(tmp_path, "clone", "-q", str(source), str(other))
    refs = git(other, "for-each-ref")
    fetch_base(other, tmp_path / "cache", str(source), prepared.base_sha)
    assert git(other, "show", f"{prepared.base_sha}:a.txt") == "edited"
    assert git(other, "for-each-ref") == refs


def test_including_nothing_uncommitted_starts_from_head(tmp_path: Path, source: Path) -> None:
    assert not uncommitted_work(str(source))
    prepared = prepare_source(str(source), "main", tmp_path / "cache", tmp_path / "out", True)
    assert prepared.base_sha == git(source, "rev-parse", "HEAD")


def test_uncommitted_changes_only_from_a_local_work_tree_on_head(
    tmp_path: Path, source: Path, remote: str
) -> None:
    (source / "a.txt").write_text("edited\n")
    with pytest.raises(GitError, match=r"^uncommitted changes sit on HEAD \(\w{12}\), not on side"):
        prepare_source(str(source), "side", tmp_path / "cache", tmp_path / "out", True)
    with pytest.raises(GitError, match=r"only from a local repository, and file://.* is a URL"):
        prepare_source(remote, None, tmp_path / "cache", tmp_path / "out", True)
    bare = Path(remote.removeprefix("file://"))
    with pytest.raises(GitError, match="is a bare repository: it has no uncommitted changes"):
        prepare_source(str(bare), None, tmp_path / "cache", tmp_path / "out", True)
    assert not uncommitted_work(remote) and not uncommitted_work(str(bare))
    assert not uncommitted_work(str(tmp_path / "nowhere"))
