"""`taskyard apply` as a person runs it: files, hunks, the working tree, $EDITOR, unsafe."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.support.board import stored_engine
from tests.support.cli import run_taskyard
from tests.support.repos import git
from tests.support.results import (
    HUNK_CHANGES,
    LINES,
    base_repo,
    every_kind_of_change,
    replace_lines,
    store_result_task,
    tree_state,
)

TASK = "cli00001"
BRANCH = f"taskyard/{TASK}"


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "TASKYARD_"))}
    return {**clean, "TASKYARD_HOME": str(tmp_path / "home")}


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    repo = base_repo(tmp_path / "repo")
    engine = stored_engine(tmp_path / "home")
    store_result_task(engine, TASK, repo, every_kind_of_change, tmp_path)
    engine.store.close()
    return repo


def apply(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    result = run_taskyard("apply", TASK, *args, env=env)
    assert "Traceback" not in result.stdout + result.stderr
    return result


def editor(tmp_path: Path, script: str) -> str:
    path = tmp_path / "editor.sh"
    path.write_text(f"#!/bin/sh\n{script}\n")
    path.chmod(0o755)
    return str(path)


def test_unknown_path_lists_the_files(env: dict[str, str], repo: Path) -> None:
    result = apply(env, "--path", "calc.py")
    assert result.returncode == 1
    assert f"task {TASK} did not change 'calc.py'; its files: gone.txt, lines.txt" in result.stderr


def test_a_hunk_to_a_new_branch(env: dict[str, str], repo: Path) -> None:
    result = apply(env, "--hunk", "lines.txt:2", "--branch", "middle")
    assert result.returncode == 0, result.stderr
    assert "created branch middle at" in result.stdout
    assert "with 1 hunk in 1 file (lines.txt)" in result.stdout
    assert "next: git switch middle" in result.stdout
    expected = replace_lines(LINES, {15: HUNK_CHANGES[15]})
    assert git(repo, "show", "middle:lines.txt") + "\n" == expected
    assert git(repo, "status", "--porcelain") == ""


def test_a_bad_hunk_spec_is_a_usage_error(env: dict[str, str], repo: Path) -> None:
    result = apply(env, "--hunk", "lines.txt")
    assert result.returncode == 2 and "is not PATH:N" in result.stderr


def test_worktree_conflict_names_the_file_and_changes_nothing(
    env: dict[str, str], repo: Path
) -> None:
    (repo / "lines.txt").write_text(replace_lines(LINES, {3: "mine\n"}))
    (repo / "scratch.txt").write_text("untracked\n")
    before = tree_state(repo)
    result = apply(env, "--worktree")
    assert result.returncode == 1
    assert "lines.txt: conflicts with your changes to it" in result.stderr
    assert "nothing was changed" in result.stderr
    assert tree_state(repo) == before


def test_worktree_accept_says_what_to_do_next(env: dict[str, str], repo: Path) -> None:
    result = apply(env, "--worktree", "--path", "new.txt")
    assert result.returncode == 0, result.stderr
    assert "applied 1 file (new.txt) onto your working tree" in result.stdout
    assert "git diff" in result.stdout
    assert (repo / "new.txt").read_text() == "brand new\n"


def test_edit_in_editor_before_accepting(env: dict[str, str], repo: Path, tmp_path: Path) -> None:
    env["EDITOR"] = editor(
        tmp_path, "sed -i 's/^+line 15 changed$/+line 15 from the editor/' \"$1\""
    )
    result = apply(env, "--edit", "--hunk", "lines.txt:2", "--branch", "edited")
    assert result.returncode == 0, result.stderr
    expected = replace_lines(LINES, {15: "line 15 from the editor\n"})
    assert git(repo, "show", "edited:lines.txt") + "\n" == expected


def test_an_empty_edit_cancels(env: dict[str, str], repo: Path, tmp_path: Path) -> None:
    env["VISUAL"] = editor(tmp_path, ': > "$1"')
    result = apply(env, "--edit")
    assert result.returncode == 1 and "cancelled, nothing was accepted" in result.stderr
    assert git(repo, "branch", "--list", f"taskyard/{TASK}") == ""


def test_a_failed_edit_is_kept(env: dict[str, str], repo: Path, tmp_path: Path) -> None:
    env["EDITOR"] = editor(tmp_path, "sed -i 's/^ line 14$/ line fourteen/' \"$1\"")
    result = apply(env, "--edit", "--hunk", "lines.txt:2")
    assert result.returncode == 1
    assert "does not apply to the task's base commit: lines.txt" in result.stderr
    kept = Path(result.stderr.split("your edited patch is kept in ")[1].strip())
    assert " line fourteen" in kept.read_text()
    kept.unlink()


def test_an_edit_that_adds_a_driver_is_refused(
    env: dict[str, str], repo: Path, tmp_path: Path
) -> None:
    addition = (
        "diff --git a/.gitattributes b/.gitattributes\\nnew file mode 100644\\n"
        "--- /dev/null\\n+++ b/.gitattributes\\n@@ -0,0 +1 @@\\n+* filter=evil\\n"
    )
    env["EDITOR"] = editor(tmp_path, f"printf '{addition}' >> \"$1\"")
    result = apply(env, "--edit", "--path", "new.txt")
    assert result.returncode == 1
    assert ".gitattributes: adds a filter driver (filter=evil)" in result.stderr
    assert "--allow-unsafe" in result.stderr
    kept = Path(result.stderr.split("your edited patch is kept in ")[1].strip())
    kept.unlink()


def test_unsafe_result_needs_allow_unsafe(env: dict[str, str], tmp_path: Path) -> None:
    repo = base_repo(tmp_path / "unsafe-repo")
    engine = stored_engine(tmp_path / "home")

    def link_out(work: Path) -> None:
        os.symlink("/etc/passwd", work / "passwd")

    store_result_task(engine, "cli00002", repo, link_out, tmp_path)
    engine.store.close()
    refused = run_taskyard("apply", "cli00002", env=env)
    assert refused.returncode == 1
    assert "passwd: symlink to an absolute path outside the repository" in refused.stderr
    assert "--allow-unsafe" in refused.stderr
    assert git(repo, "branch", "--list", "taskyard/cli00002") == ""
    accepted = run_taskyard("apply", "cli00002", "--allow-unsafe", env=env)
    assert accepted.returncode == 0, accepted.stderr
    assert "accepted although unsafe: passwd" in accepted.stderr
    assert "created branch taskyard/cli00002" in accepted.stdout


def test_accepting_again_moves_the_branch_forward_or_refuses_in_one_line(
    env: dict[str, str], repo: Path, tmp_path: Path
) -> None:
    git(repo, "branch", BRANCH, "main")
    head = git(tmp_path / f"work-{TASK}", "rev-parse", "HEAD")
    moved = apply(env)
    assert moved.returncode == 0, moved.stderr
    assert moved.stdout.splitlines()[0].startswith(f"moved branch {BRANCH} forward from ")
    assert git(repo, "rev-parse", BRANCH) == head
    same = apply(env)
    assert same.stdout.splitlines()[0] == (
        f"branch {BRANCH} is already at {head[:12]}: nothing new to accept"
    )
    tree = git(repo, "rev-parse", f"{BRANCH}^{{tree}}")
    mine = git(repo, "commit-tree", tree, "-p", BRANCH, "-m", "mine")
    git(repo, "update-ref", f"refs/heads/{BRANCH}", mine)
    refused = apply(env)
    assert refused.returncode == 1 and refused.stdout == ""
    assert refused.stderr == (
        f"taskyard: branch {BRANCH} has 1 commit that task {TASK}'s result does not, so it was "
        f"not moved: choose another name with --branch (e.g. --branch {BRANCH}-2)\n"
    )
    assert git(repo, "rev-parse", BRANCH) == mine
