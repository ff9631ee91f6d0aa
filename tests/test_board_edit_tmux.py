"""`e` in the real board, in tmux: the chosen patch opens in $EDITOR (a script here) while the
board is suspended, and what was saved is accepted, or nothing when the file was emptied."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.board import stored_engine
from tests.support.cli import TASKYARD
from tests.support.repos import git
from tests.support.results import HUNK_CHANGES, LINES, base_repo, replace_lines, store_result_task
from tests.support.terminal import Terminal, tmux_terminal

TASK = "edit0001"
BRANCH = f"taskyard/{TASK}"


@pytest.fixture
def terminal() -> Iterator[Terminal]:
    with tmux_terminal(f"taskyard-edit-{os.getpid()}") as session:
        yield session


def three_hunks(work: Path) -> None:
    (work / "lines.txt").write_text(replace_lines(LINES, HUNK_CHANGES))


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    repo = base_repo(tmp_path / "repo")
    engine = stored_engine(tmp_path / "home")
    store_result_task(engine, TASK, repo, three_hunks, tmp_path)
    engine.store.close()
    return repo


def open_result_with_editor(
    terminal: Terminal, repo: Path, tmp_path: Path, script: str, accept: str = "Enter"
) -> None:
    """Start the board with EDITOR running `script` on the patch ($1, its path also written to
    editor-saw), open the task's result and press e; then `accept` in the target dialog."""
    editor = tmp_path / "editor.sh"
    editor.write_text(f'#!/bin/sh\necho "$1" > {tmp_path}/editor-saw\n{script}\n')
    editor.chmod(0o755)
    (tmp_path / "tmp").mkdir()
    env = {
        "TASKYARD_HOME": str(tmp_path / "home"),
        "EDITOR": str(editor),
        "TMPDIR": str(tmp_path / "tmp"),
        "TERM": "xterm-256color",
    }
    terminal.start([TASKYARD], repo, env)
    terminal.wait_for("Fix the failing test", timeout=20)
    terminal.keys("Enter")
    terminal.wait_for("Edit+accept")
    terminal.keys("e")


def edited_file(tmp_path: Path) -> Path:
    return Path((tmp_path / "editor-saw").read_text().strip())


def wait_for_branch(repo: Path, timeout: float = 30.0) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if listed := git(repo, "branch", "--list", BRANCH):
            return listed
        time.sleep(0.2)
    raise AssertionError(f"{BRANCH} was not created")


def test_the_edited_patch_is_accepted_to_a_new_branch(
    terminal: Terminal, repo: Path, tmp_path: Path
) -> None:
    script = "sed -i '/^+line 27 changed$/d; s/^+line 15 changed$/+line 15 edited/' \"$1\""
    open_result_with_editor(terminal, repo, tmp_path, script)
    terminal.wait_for("the edited patch, into")
    terminal.keys("Enter")
    wait_for_branch(repo)
    terminal.wait_for(f"Task {TASK} accepted", timeout=20)
    edited = replace_lines(LINES, {3: HUNK_CHANGES[3], 15: "line 15 edited\n", 27: ""})
    assert git(repo, "show", f"{BRANCH}:lines.txt") + "\n" == edited
    assert git(repo, "diff", "--name-only", "main", BRANCH) == "lines.txt"
    assert git(repo, "status", "--porcelain") == ""
    assert not edited_file(tmp_path).exists()


def test_an_emptied_patch_cancels(terminal: Terminal, repo: Path, tmp_path: Path) -> None:
    open_result_with_editor(terminal, repo, tmp_path, ': > "$1"')
    terminal.wait_for("The edited patch is empty: cancelled")
    assert "the edited patch, into" not in terminal.screen()
    assert git(repo, "branch", "--list", "taskyard/*") == ""
    assert not edited_file(tmp_path).exists()


def test_a_patch_that_does_not_apply_is_kept(
    terminal: Terminal, repo: Path, tmp_path: Path
) -> None:
    open_result_with_editor(terminal, repo, tmp_path, "sed -i 's/^ line 14$/ line XIV/' \"$1\"")
    terminal.wait_for("the edited patch, into")
    terminal.keys("Enter")
    terminal.wait_for("does not apply")
    terminal.wait_for("is kept in")
    assert " line XIV" in edited_file(tmp_path).read_text()
    assert git(repo, "branch", "--list", "taskyard/*") == ""


def test_an_unsafe_edit_asks_first(terminal: Terminal, repo: Path, tmp_path: Path) -> None:
    addition = (
        "diff --git a/.gitattributes b/.gitattributes\\nnew file mode 100644\\n"
        "--- /dev/null\\n+++ b/.gitattributes\\n@@ -0,0 +1 @@\\n+* filter=evil\\n"
    )
    open_result_with_editor(terminal, repo, tmp_path, f"printf '{addition}' >> \"$1\"")
    terminal.wait_for("the edited patch, into")
    terminal.keys("Enter")
    terminal.wait_for("adds a filter driver (filter=evil)")
    terminal.keys("y")
    wait_for_branch(repo)
    assert git(repo, "show", f"{BRANCH}:.gitattributes") == "* filter=evil"
    assert git(repo, "show", f"{BRANCH}:lines.txt") + "\n" == replace_lines(LINES, HUNK_CHANGES)
