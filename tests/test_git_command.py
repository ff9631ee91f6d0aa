"""engine.git.command, the one door of host-side git, against real repositories in tmp_path."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from engine.git.command import (
    GitError,
    GitFailed,
    git_bytes,
    git_exact,
    git_listing,
    git_text,
    summarise,
)
from tests.support.repos import isolate_git

EMPTY_BLOB = "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391"


@pytest.fixture(autouse=True)
def isolated_git(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    isolate_git(tmp_path, monkeypatch)


def make_repo(path: Path) -> Path:
    """A repository with one commit of a.txt on main."""
    subprocess.run(["git", "init", "-q", "-b", "main", str(path)], check=True)
    (path / "a.txt").write_text("a\n")
    subprocess.run(["git", "-C", str(path), "add", "a.txt"], check=True)
    subprocess.run(["git", "-C", str(path), "commit", "-q", "-m", "one"], check=True)
    return path


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return make_repo(tmp_path / "repo")


def test_a_failing_command_says_which_where_and_why(repo: Path) -> None:
    with pytest.raises(GitFailed) as raised:
        git_text(["-c", "core.quotePath=true", "rev-parse", "--verify", "nope"], repo)
    assert str(raised.value) == f"git rev-parse failed in {repo}: Needed a single revision"
    assert raised.value.summary == "Needed a single revision"
    assert raised.value.stderr.startswith("fatal: Needed a single revision")
    assert isinstance(raised.value, GitError)


def test_the_summary_skips_git_generic_advice(tmp_path: Path) -> None:
    missing = tmp_path / "missing.git"
    with pytest.raises(GitFailed) as raised:
        git_text(["ls-remote", "--", str(missing)])
    assert "Please make sure" in raised.value.stderr
    assert raised.value.summary == f"'{missing}' does not appear to be a git repository"
    assert str(raised.value) == f"git ls-remote failed: {raised.value.summary}"
    assert summarise("") == "git failed"
    assert summarise("hint: one\nwarning: two\n") == "hint: one"


class _AuthRequired(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(401)
        self.send_header("WWW-Authenticate", 'Basic realm="taskyard-test"')
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def auth_server() -> Iterator[str]:
    """An HTTP remote that asks every request for a user name and password."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _AuthRequired)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/repo.git"
    finally:
        server.shutdown()
        server.server_close()


def test_a_prompt_for_credentials_is_refused_not_awaited(
    tmp_path: Path, auth_server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked = tmp_path / "asked"
    askpass = tmp_path / "askpass"
    askpass.write_text(f'#!/bin/sh\necho "$1" >> {asked}\necho secret\n')
    askpass.chmod(0o755)
    monkeypatch.setenv("GIT_ASKPASS", str(askpass))
    monkeypatch.setenv("SSH_ASKPASS", str(askpass))
    monkeypatch.setenv("GIT_TERMINAL_PROMPT", "1")
    with pytest.raises(GitFailed) as raised:
        git_text(["ls-remote", "--", auth_server])
    assert raised.value.summary.startswith("could not read Username for 'http://127.0.0.1:")
    assert raised.value.summary.endswith("terminal prompts disabled")
    assert not asked.exists()


def test_git_runs_in_its_own_session_with_nothing_on_stdin(repo: Path) -> None:
    session = f"!{sys.executable} -c 'import os; print(os.getsid(0))'"
    assert int(git_text(["-c", f"alias.session={session}", "session"], repo)) != os.getsid(0)
    assert git_text(["hash-object", "--stdin"], repo) == EMPTY_BLOB
    written = git_text(["hash-object", "-w", "--stdin"], repo, stdin=b"given\n")
    assert git_bytes(["cat-file", "blob", written], repo) == b"given\n"


def test_a_temporary_index_leaves_the_repository_index_alone(repo: Path, tmp_path: Path) -> None:
    own_index = (repo / ".git" / "index").read_bytes()
    index = tmp_path / "scratch-index"
    (repo / "b.txt").write_text("b\n")
    git_text(["read-tree", "HEAD"], repo, index=index)
    git_text(["update-index", "--add", "--", "b.txt"], repo, index=index)
    assert git_listing(["ls-files", "-z"], repo, index=index) == ["a.txt", "b.txt"]
    assert git_listing(["ls-files", "-z"], repo) == ["a.txt"]
    assert (repo / ".git" / "index").read_bytes() == own_index


def test_inherited_repository_variables_are_dropped(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    other = make_repo(tmp_path / "other")
    (other / "c.txt").write_text("c\n")
    subprocess.run(["git", "-C", str(other), "add", "c.txt"], check=True)
    monkeypatch.setenv("GIT_DIR", str(other / ".git"))
    monkeypatch.setenv("GIT_INDEX_FILE", str(other / ".git" / "index"))
    monkeypatch.setenv("GIT_WORK_TREE", str(other))
    assert git_text(["rev-parse", "--absolute-git-dir"], repo) == str(repo / ".git")
    assert git_listing(["ls-files", "-z"], repo) == ["a.txt"]


def test_paths_stay_byte_exact_and_messages_readable(repo: Path) -> None:
    name = b"caf\xe9.txt"
    (repo / os.fsdecode(name)).write_bytes(b"\xe9t\xe9\n")
    git_text(["add", "--", os.fsdecode(name)], repo)
    git_text(["commit", "-q", "-m", "two"], repo)
    [listed] = git_listing(["diff-tree", "-z", "-r", "--name-only", "--no-commit-id", "HEAD"], repo)
    assert listed.encode("utf-8", "surrogateescape") == name
    content = git_exact(["cat-file", "blob", f"HEAD:{listed}"], repo)
    assert content.encode("utf-8", "surrogateescape") == b"\xe9t\xe9\n"
    message = git_text(["hash-object", "-w", "--stdin"], repo, stdin=b"bad \xff byte\n")
    assert git_text(["cat-file", "blob", message], repo) == "bad \ufffd byte"


def test_no_git_on_path_is_said_plainly(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    empty = tmp_path / "no-programs"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    with pytest.raises(GitError) as raised:
        git_text(["status"], repo)
    assert str(raised.value) == "git is not installed or not on PATH"
    assert not isinstance(raised.value, GitFailed)


def test_a_missing_directory_is_not_mistaken_for_missing_git(tmp_path: Path) -> None:
    gone = tmp_path / "gone"
    with pytest.raises(GitError, match=f"^cannot run git in {gone}: No such file or directory$"):
        git_text(["status"], gone)


def test_no_other_engine_module_starts_git() -> None:
    engine = Path(__file__).parent.parent / "engine"
    argv = re.compile(r"""[\[(]\s*["']git["']""")
    starting = {
        str(path.relative_to(engine))
        for path in engine.rglob("*.py")
        if argv.search(path.read_text())
    }
    # The demo model's tool call asks the sandbox to run `git ls-files`: not a host process.
    assert starting - {"models/demo.py"} == {"git/command.py"}
