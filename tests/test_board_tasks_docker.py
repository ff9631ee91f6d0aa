"""The board driving the real engine on Docker with the scripted model server."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import TextArea

from engine.views.events import TaskFinished
from tests.support.agent_script import TEST_COMMAND
from tests.support.board import EventLog, ServedBoard, calc_fix_script, wait_until
from tests.support.engines import scripted_engine
from tests.support.model_server import Call, Reply, ScriptedModelServer, Step
from tests.support.repos import git, make_calc_repo
from tui.app import TaskyardApp
from tui.screens.composer import ComposerScreen
from tui.screens.confirm import ConfirmScreen
from tui.screens.follow_up import FollowUpScreen
from tui.widgets.check_list import CheckList
from tui.widgets.command_block import CommandBlock
from tui.widgets.file_stats import FileStats
from tui.widgets.result_panel import ResultPanel
from tui.widgets.task_view import LOG_PANE, RESULT_PANE, TaskView

pytestmark = pytest.mark.usefixtures("docker_available")

SIZE = (120, 40)


@asynccontextmanager
async def running_board(
    tmp_path: Path, script: list[Step]
) -> AsyncIterator[tuple[TaskyardApp, Pilot[None], EventLog]]:
    """The board on a calc repository, its model playing `script`."""
    repo = make_calc_repo(tmp_path / "calc")
    log = EventLog()
    with ScriptedModelServer(script) as server:
        app = ServedBoard(scripted_engine(tmp_path / "home", server), repo, clock=time.time)
        async with app.run_test(size=SIZE, message_hook=log) as pilot:
            yield app, pilot, log


async def submit_task(pilot: Pilot[Any], prompt: str) -> str:
    """Open the composer, type the prompt, ctrl+s; the new task's id."""
    app = pilot.app
    assert isinstance(app, TaskyardApp)
    before = set(app.board.table.rows_by_id)
    await pilot.press("n")
    assert isinstance(app.screen, ComposerScreen)
    await pilot.press(*prompt)
    await pilot.press("ctrl+s")
    await wait_until(pilot, lambda: app.screen is app.board, "the composer to close")
    (task_id,) = set(app.board.table.rows_by_id) - before
    return task_id


async def test_new_task_is_submitted_and_reaches_ready(tmp_path: Path) -> None:
    async with running_board(tmp_path, calc_fix_script()) as (app, pilot, log):
        bells: list[None] = []
        app.bell = lambda: bells.append(None)  # type: ignore[method-assign]
        task_id = await submit_task(pilot, "Fix the failing test")
        table = app.board.table
        assert table.selected_task_id == task_id
        assert str(table.get_cell(task_id, "title")) == "Fix the failing test"
        await wait_until(pilot, lambda: log.finished(task_id), "the task to finish")
        await pilot.pause()
        assert app.engine.task(task_id).status == "ready"
        assert str(table.get_cell(task_id, "status")).startswith("⚠ ready")
        assert str(table.get_cell(task_id, "evidence")) == "⚠ 1 bad cite", "missing.py"
        assert str(table.get_cell(task_id, "diff")) == "+1 -1"
        assert str(table.get_cell(task_id, "tokens")) == "40/20"
        titles = [notification.title for notification in app._notifications]
        assert f"Task {task_id} ready for review" in titles
        assert len(bells) == 1


async def test_several_tasks_start_in_a_row(tmp_path: Path) -> None:
    script: list[Step] = [Reply(text="nothing to do"), Reply(text="nothing to do")]
    async with running_board(tmp_path, script) as (app, pilot, log):
        first = await submit_task(pilot, "First")
        await pilot.press("n")
        assert app.screen.query_one("#prompt", TextArea).text == ""
        await pilot.press("escape")
        second = await submit_task(pilot, "Second")
        assert first != second
        await wait_until(
            pilot, lambda: log.finished(first) and log.finished(second), "both tasks to end"
        )


def output_text(block: CommandBlock) -> str:
    return "\n".join(block.output.lines)


async def test_enter_opens_a_tab_that_streams_commands_and_output(tmp_path: Path) -> None:
    async with running_board(tmp_path, calc_fix_script()) as (app, pilot, log):
        task_id = await submit_task(pilot, "Fix the failing test")
        await pilot.press("enter")
        view = app.board.task_view(task_id)
        assert isinstance(view, TaskView) and app.board.tabs.active == f"task-{task_id}"
        assert view.panes.active == LOG_PANE
        await wait_until(pilot, lambda: log.finished(task_id), "the task to finish")
        blocks = list(view.stream.blocks.values())
        assert [block.phase for block in blocks] == ["checkout", "agent", "agent"]
        for block in blocks:
            block.collapsed = False
        failing, passing = blocks[1:]
        await wait_until(pilot, lambda: "FAILED (failures=1)" in output_text(failing), "output")
        await wait_until(pilot, lambda: output_text(passing).endswith("OK"), "output")
        assert failing.has_class("-failed") and not passing.has_class("-failed")
        assert "exit 1" in failing.title.plain and "exit 0" in passing.title.plain  # type: ignore[attr-defined]
        assert output_text(failing).count("FAILED (failures=1)") == 1
        notes = [note.kind for note in view.stream.query("StreamNote")]  # type: ignore[attr-defined]
        assert notes[0] == "prompt" and notes[-1] == "success"
        labels = [str(note.render()) for note in view.stream.query("StreamNote")]
        assert any(label.startswith("Patch applied") for label in labels)


async def test_result_panel_shows_files_diff_and_citations(tmp_path: Path) -> None:
    async with running_board(tmp_path, calc_fix_script()) as (app, pilot, log):
        task_id = await submit_task(pilot, "Fix the failing test")
        await wait_until(pilot, lambda: log.finished(task_id), "the task to finish")
        await pilot.press("enter")
        view = app.board.task_view(task_id)
        assert view is not None and view.panes.active == RESULT_PANE
        await pilot.pause()
        panel = view.query_one(ResultPanel)
        files = panel.query_one(FileStats)
        assert [str(option.prompt) for option in files.options] == ["+1 -1    calc.py"]
        citations = panel.query_one(".citation-list")
        labels = [str(option.prompt) for option in citations.options]  # type: ignore[attr-defined]
        assert labels[0] == "✓ file calc.py L1-L2"
        assert labels[1].startswith("✓ output ") and labels[1].endswith(" L1-L3")
        assert labels[3] == "✗ file missing.py L1 (no such file)"
        citations.focus()
        citations.highlighted = 1  # type: ignore[attr-defined]
        await pilot.press("enter")
        cited = str(panel.query_one(".cited-lines").render())
        assert "FAIL: test_add" in cited and "    1 │" in cited
        await pilot.press("up", "enter")
        assert citations.highlighted == 0  # type: ignore[attr-defined]
        cited = str(panel.query_one(".cited-lines").render())
        assert "+    return a + b" in cited and "    2 │" in cited
        await pilot.press("t")
        assert view.panes.active == LOG_PANE


def notified(app: TaskyardApp, text: str) -> bool:
    return any(text in f"{n.title} {n.message}" for n in app._notifications)


async def test_accept_makes_a_branch_in_the_repository(tmp_path: Path) -> None:
    async with running_board(tmp_path, calc_fix_script()) as (app, pilot, log):
        task_id = await submit_task(pilot, "Fix the failing test")
        await wait_until(pilot, lambda: log.finished(task_id), "the task to finish")
        await pilot.press("a", "enter")
        branch = f"taskyard/{task_id}"
        await wait_until(pilot, lambda: notified(app, f"branch {branch}"), "the accept notice")
        repo = tmp_path / "calc"
        assert git(repo, "branch", "--list", branch).strip(" *") == branch
        assert git(repo, "branch", "--show-current") == "main"
        assert "return a + b" in git(repo, "show", f"{branch}:calc.py")
        await wait_until(pilot, lambda: app.engine.task(task_id).status == "accepted", "status")
        await wait_until(
            pilot,
            lambda: "accepted" in str(app.board.table.get_cell(task_id, "status")),
            "the row to show it",
        )


async def test_follow_up_starts_a_new_turn(tmp_path: Path) -> None:
    script: list[Step] = [
        Reply(text="first answer"),
        Reply(tool_calls=[Call("shell", {"command": TEST_COMMAND})]),
        Reply(text="second answer: all tests pass"),
    ]
    async with running_board(tmp_path, script) as (app, pilot, log):
        task_id = await submit_task(pilot, "Look at calc")
        await wait_until(pilot, lambda: log.finished(task_id), "the task to finish")
        await pilot.press("enter", "f")
        assert isinstance(app.screen, FollowUpScreen)
        await pilot.press(*"and now tests")
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: log.finished(task_id, count=2), "the follow-up to end")
        assert log.count(task_id, "task.followup") == 1
        assert app.engine.task(task_id).final_message == "second answer: all tests pass"
        view = app.board.task_view(task_id)
        assert view is not None
        notes = [item for item in view.stream.items if item.has_class("note")]
        labels = [str(note.render()) for note in notes]
        assert "Follow-up\nand now tests" in labels
        assert labels.count("Task ready") == 2
        checks = view.result.query_one(CheckList)
        await wait_until(pilot, lambda: checks.runs, "the result read after the follow-up")
        (check,) = checks.runs
        assert check.command == "python3 -m unittest -q" and check.outcome == "fail"
        assert view.result.has_class("-unsupported-claim")
        assert app.engine.task(task_id).verdict == "⚠ claim ≠ runs"
        await pilot.press("escape")
        status = str(app.board.table.get_cell(task_id, "status"))
        assert status.startswith("⚠ ready")
        assert str(app.board.table.get_cell(task_id, "evidence")) == "⚠ claim ≠ runs"
        verdicts = [e.verdict for e in log.events if isinstance(e, TaskFinished)]
        assert verdicts == ["", "⚠ claim ≠ runs"]


async def test_x_cancels_a_running_task_once_confirmed(tmp_path: Path) -> None:
    script: list[Step] = [Reply(tool_calls=[Call("shell", {"command": ["sleep", "60"]})])]
    async with running_board(tmp_path, script) as (app, pilot, log):
        task_id = await submit_task(pilot, "Wait a minute")
        await wait_until(
            pilot, lambda: log.count(task_id, "command.started") == 2, "the agent's command"
        )
        await pilot.press("x")
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("n")
        await pilot.pause(0.5)
        assert not log.finished(task_id) and app.screen is app.board
        await pilot.press("x", "y")
        await wait_until(pilot, lambda: log.finished(task_id), "the task to end")
        assert app.engine.task(task_id).status == "cancelled"
        assert notified(app, f"Task {task_id} cancelled")
        assert str(app.board.table.get_cell(task_id, "status")).startswith("■ cancelled")


async def test_r_retries_as_a_new_task(tmp_path: Path) -> None:
    script: list[Step] = [Reply(text="first"), Reply(text="again")]
    async with running_board(tmp_path, script) as (app, pilot, log):
        task_id = await submit_task(pilot, "Look at calc")
        await wait_until(pilot, lambda: log.finished(task_id), "the task to finish")
        await pilot.press("r")
        table = app.board.table
        await wait_until(pilot, lambda: len(table.rows_by_id) == 2, "the retried task's row")
        (retried,) = set(table.rows_by_id) - {task_id}
        assert app.engine.task(retried).prompt == "Look at calc"
        await wait_until(pilot, lambda: log.finished(retried), "the retried task to finish")
        assert app.engine.task(retried).final_message == "again"
        assert notified(app, f"Task {task_id} retried as task {retried}")
