"""Accepting a result precisely: whole, by file or by hunk, to a branch or onto the working
tree, with the person's uncommitted work never lost; accepting again moves the branch forward
only when that is a fast-forward."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from engine.api import Engine, EngineError
from engine.views.accept import AcceptRequest, BranchTaken, Choice, WorktreeConflict
from tests.support.board import stored_engine
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

TASK = "acc00001"
BRANCH = f"taskyard/{TASK}"


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[Engine]:
    engine = stored_engine(tmp_path / "home")
    yield engine
    await engine.close()


@pytest.fixture
def repo(tmp_path: Path, engine: Engine) -> Path:
    repo = base_repo(tmp_path / "repo")
    store_result_task(engine, TASK, repo, every_kind_of_change, tmp_path)
    return repo


def changed_files(repo: Path, branch: str) -> list[str]:
    return git(repo, "diff", "--no-renames", "--name-only", "main", branch).splitlines()


def show(repo: Path, spec: str) -> str:
    return git(repo, "show", spec)


def dirty(repo: Path) -> None:
    """Uncommitted work of every kind: unstaged, staged and untracked."""
    (repo / "lines.txt").write_text(replace_lines(LINES, {10: "my line 10\n"}))
    (repo / "run.sh").write_text("echo mine\n")
    git(repo, "add", "run.sh")
    (repo / "notes.txt").write_text("my notes\n")


async def test_hunks_and_files_of_the_result(engine: Engine, repo: Path) -> None:
    files = {file.path: file for file in await engine.result_files(TASK)}
    assert sorted(files) == [
        "gone.txt",
        "lines.txt",
        "logo.bin",
        "new.txt",
        "new_name.txt",
        "run.sh",
    ]
    kinds = {path: file.kind for path, file in files.items()}
    assert kinds == {
        "gone.txt": "deleted",
        "lines.txt": "modified",
        "logo.bin": "binary",
        "new.txt": "new",
        "new_name.txt": "renamed",
        "run.sh": "mode change",
    }
    assert len(files["lines.txt"].hunks) == 3 and not files["lines.txt"].whole_only
    assert all(file.whole_only for path, file in files.items() if path != "lines.txt")


async def test_whole_result_is_the_tasks_commits_on_a_new_branch(
    engine: Engine, repo: Path
) -> None:
    dirty(repo)
    before = tree_state(repo)
    accepted = await engine.accept(TASK)
    assert accepted.whole and accepted.branch == f"taskyard/{TASK}"
    assert accepted.sha == engine.task(TASK).head_sha
    assert git(repo, "rev-parse", accepted.branch) == accepted.sha
    assert tree_state(repo) == before
    assert engine.task(TASK).status == "accepted"


async def test_chosen_hunks_give_exactly_those_changes(engine: Engine, repo: Path) -> None:
    dirty(repo)
    before = tree_state(repo)
    choice = Choice(hunks=(("lines.txt", 1), ("lines.txt", 3)))
    accepted = await engine.accept(TASK, AcceptRequest(choice, branch="two-hunks"))
    assert not accepted.whole and accepted.hunks == 2
    assert changed_files(repo, "two-hunks") == ["lines.txt"]
    expected = replace_lines(LINES, {3: HUNK_CHANGES[3], 27: HUNK_CHANGES[27]})
    assert show(repo, "two-hunks:lines.txt") + "\n" == expected
    assert git(repo, "rev-parse", "two-hunks^") == git(repo, "rev-parse", "main")
    assert tree_state(repo) == before


async def test_chosen_files_give_exactly_those_files(engine: Engine, repo: Path) -> None:
    choice = Choice(paths=("new.txt", "logo.bin", "new_name.txt", "run.sh", "gone.txt"))
    await engine.accept(TASK, AcceptRequest(choice, branch="files"))
    assert sorted(changed_files(repo, "files")) == [
        "gone.txt",
        "logo.bin",
        "new.txt",
        "new_name.txt",
        "old_name.txt",
        "run.sh",
    ]
    result = engine.task(TASK).head_sha
    for path in ("new.txt", "new_name.txt"):
        assert show(repo, f"files:{path}") == show(repo, f"{result}:{path}")
    assert git(repo, "rev-parse", "files:logo.bin") == git(repo, "rev-parse", f"{result}:logo.bin")
    assert git(repo, "ls-tree", "files", "run.sh").startswith("100755")
    assert show(repo, "files:lines.txt") + "\n" == LINES


async def test_unknown_path_lists_the_tasks_files(engine: Engine, repo: Path) -> None:
    with pytest.raises(EngineError, match=r"did not change 'nope\.txt'.*lines\.txt"):
        await engine.accept(TASK, AcceptRequest(Choice(paths=("nope.txt",))))
    with pytest.raises(EngineError, match="new file and is taken whole"):
        await engine.accept(TASK, AcceptRequest(Choice(hunks=(("new.txt", 1),))))
    with pytest.raises(EngineError, match="has 3 hunk"):
        await engine.accept(TASK, AcceptRequest(Choice(hunks=(("lines.txt", 4),))))


async def test_onto_a_clean_working_tree(engine: Engine, repo: Path) -> None:
    index_before = (repo / ".git" / "index").read_bytes()
    choice = Choice(paths=("new.txt", "gone.txt"), hunks=(("lines.txt", 2),))
    accepted = await engine.accept(TASK, AcceptRequest(choice, onto_worktree=True))
    assert accepted.target == "worktree"
    assert (repo / "new.txt").read_text() == "brand new\n"
    assert not (repo / "gone.txt").exists()
    assert (repo / "lines.txt").read_text() == replace_lines(LINES, {15: HUNK_CHANGES[15]})
    assert (repo / ".git" / "index").read_bytes() == index_before
    assert git(repo, "branch", "--list") == "* main"


async def test_onto_a_dirty_working_tree_merges_three_ways(engine: Engine, repo: Path) -> None:
    dirty(repo)
    staged = git(repo, "diff", "--cached")
    await engine.accept(TASK, AcceptRequest(onto_worktree=True))
    expected = replace_lines(LINES, {10: "my line 10\n", **HUNK_CHANGES})
    assert (repo / "lines.txt").read_text() == expected
    assert (repo / "notes.txt").read_text() == "my notes\n"
    assert (repo / "new_name.txt").exists() and not (repo / "old_name.txt").exists()
    assert (repo / "run.sh").read_text() == "echo mine\n"
    assert (repo / "run.sh").stat().st_mode & 0o111
    assert git(repo, "diff", "--cached") == staged


async def test_a_conflicting_working_tree_is_left_byte_for_byte(engine: Engine, repo: Path) -> None:
    dirty(repo)
    (repo / "lines.txt").write_text(replace_lines(LINES, {15: "my own line 15\n"}))
    (repo / "new.txt").write_text("my untracked new.txt\n")
    before, refs = tree_state(repo), git(repo, "for-each-ref")
    with pytest.raises(WorktreeConflict) as raised:
        await engine.accept(TASK, AcceptRequest(onto_worktree=True))
    conflicts = {conflict.path: conflict.reason for conflict in raised.value.conflicts}
    assert conflicts == {
        "lines.txt": "conflicts with your changes to it",
        "new.txt": "already exists in your working tree",
    }
    assert "nothing was changed" in str(raised.value)
    assert tree_state(repo) == before and git(repo, "for-each-ref") == refs
    assert engine.task(TASK).status == "ready"


async def test_an_edited_patch_is_what_is_accepted(engine: Engine, repo: Path) -> None:
    patch = await engine.chosen_patch(TASK, Choice(hunks=(("lines.txt", 2),)))
    assert "+line 15 changed" in patch and "line 3 changed" not in patch
    edited = patch.replace("+line 15 changed", "+line 15 edited by hand\n+and one more")
    await engine.accept(TASK, AcceptRequest(patch=edited, branch="edited"))
    expected = replace_lines(LINES, {15: "line 15 edited by hand\nand one more\n"})
    assert show(repo, "edited:lines.txt") + "\n" == expected


async def test_an_edited_patch_that_does_not_apply_is_refused(engine: Engine, repo: Path) -> None:
    patch = await engine.chosen_patch(TASK, Choice(hunks=(("lines.txt", 2),)))
    broken = patch.replace(" line 14", " line fourteen")
    with pytest.raises(EngineError, match=r"does not apply to the task's base commit: lines\.txt"):
        await engine.accept(TASK, AcceptRequest(patch=broken, branch="broken"))
    assert git(repo, "branch", "--list", "broken") == ""


def follow_up_commit(engine: Engine, tmp_path: Path) -> str:
    """One more commit on the task's branch in its clone, bundled as a follow-up's result."""
    task = engine.task(TASK)
    work = tmp_path / f"work-{TASK}"
    (work / "more.txt").write_text("from the follow-up\n")
    git(work, "add", "more.txt")
    git(work, "-c", "user.name=agent", "-c", "user.email=agent@example.com", "commit", "-qm", "f")
    bundle = tmp_path / f"{TASK}-2.bundle"
    git(work, "bundle", "create", "-q", str(bundle), f"{task.base_sha}..{BRANCH}")
    head = git(work, "rev-parse", "HEAD")
    engine.store.update_task(TASK, head_sha=head, result_bundle=str(bundle))
    return head


def commit_on(repo: Path, branch: str) -> str:
    """A commit of the person's own on `branch`, made without checking it out."""
    tree = git(repo, "rev-parse", f"{branch}^{{tree}}")
    sha = git(repo, "commit-tree", tree, "-p", branch, "-m", "mine")
    git(repo, "update-ref", f"refs/heads/{branch}", sha)
    return sha


async def test_accepting_after_a_follow_up_moves_the_branch_forward(
    engine: Engine, repo: Path, tmp_path: Path
) -> None:
    first = await engine.accept(TASK)
    assert (first.branch, first.previous, first.moved) == (BRANCH, "", False)
    before = tree_state(repo)
    head = follow_up_commit(engine, tmp_path)
    again = await engine.accept(TASK)
    assert (again.sha, again.previous, again.moved) == (head, first.sha, True)
    assert git(repo, "rev-parse", BRANCH) == head
    assert git(repo, "show", f"{BRANCH}:more.txt") == "from the follow-up"
    assert tree_state(repo) == before and git(repo, "branch", "--show-current") == "main"
    same = await engine.accept(TASK)
    assert (same.sha, same.previous, same.moved) == (head, head, False)


async def test_a_branch_with_commits_of_its_own_is_not_moved(
    engine: Engine, repo: Path, tmp_path: Path
) -> None:
    await engine.accept(TASK)
    mine = commit_on(repo, BRANCH)
    follow_up_commit(engine, tmp_path)
    git(repo, "branch", f"{BRANCH}-2", "main")
    with pytest.raises(BranchTaken) as raised:
        await engine.accept(TASK)
    taken = raised.value
    assert (taken.branch, taken.suggestion) == (BRANCH, f"{BRANCH}-3")
    assert taken.reason == f"has 1 commit that task {TASK}'s result does not"
    assert git(repo, "rev-parse", BRANCH) == mine
    other = await engine.accept(TASK, AcceptRequest(branch=taken.suggestion))
    assert other.previous == "" and git(repo, "rev-parse", f"{BRANCH}-3") == other.sha


async def test_a_checked_out_branch_is_not_moved(
    engine: Engine, repo: Path, tmp_path: Path
) -> None:
    first = await engine.accept(TASK)
    checkout = tmp_path / "checkout"
    git(repo, "worktree", "add", "-q", str(checkout), BRANCH)
    head = follow_up_commit(engine, tmp_path)
    with pytest.raises(BranchTaken, match=f"is checked out in {checkout}") as raised:
        await engine.accept(TASK)
    assert f"git merge --ff-only {head[:12]}" in raised.value.reason
    assert git(repo, "rev-parse", BRANCH) == first.sha
    assert git(checkout, "status", "--porcelain") == ""


async def test_a_squash_on_an_accepted_branch_asks_for_another(engine: Engine, repo: Path) -> None:
    await engine.accept(TASK)
    with pytest.raises(BranchTaken, match="has 1 commit") as raised:
        await engine.accept(TASK, AcceptRequest(squash=True))
    assert raised.value.suggestion == f"{BRANCH}-2"
