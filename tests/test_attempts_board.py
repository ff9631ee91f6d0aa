"""Best-of-N on the board: attempts grouped in the task table, compared side by side in a task's
tab with a key to switch between them, and started from the composer's attempts field."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from textual.widgets import Input, Static

from tests.support.agent_script import TEST_COMMAND, shell
from tests.support.board import (
    CALC_DIFF,
    FROZEN_NOW,
    EventLog,
    ServedBoard,
    store_command,
    store_task,
    stored_engine,
    wait_until,
)
from tests.support.engines import scripted_engine
from tests.support.model_server import Reply, ScriptedModelServer
from tests.support.repos import make_calc_repo
from tui.app import TaskyardApp
from tui.screens.composer import ComposerScreen
from tui.widgets.attempts_panel import AttemptsPanel
from tui.widgets.key_hints import KeyHints
from tui.widgets.task_view import ATTEMPTS_PANE, TaskView

SIZE = (120, 40)
TESTS = ["bash", "-lc", "python3 -m pytest -q"]


def board_with_attempts(tmp_path: Path) -> TaskyardApp:
    """Two attempts of one request (the first's tests fail, the second's pass) and a lone task."""
    engine = stored_engine(tmp_path / "home")
    store_task(engine, "solo0001", prompt="Other work", created=FROZEN_NOW - 900)
    for task_id, attempt, exit_code in (("grp00001", 1, 1), ("grp00002", 2, 0)):
        store_task(
            engine,
            task_id,
            group_id="grp00001",
            attempt=attempt,
            diff=CALC_DIFF,
            created=FROZEN_NOW - 600 + attempt,
            final_message="All tests pass.",
            usage={"input_tokens": 50, "output_tokens": 10},
        )
        store_command(engine, task_id, "c1", TESTS, "result\n", exit_code=exit_code)
    return ServedBoard(engine, tmp_path)


def row_text(panel: AttemptsPanel, index: int) -> list[str]:
    return [str(cell).strip() for cell in panel.table.get_row_at(index)]


def active_view(app: TaskyardApp) -> TaskView:
    view = app.board.active_view()
    assert view is not None
    return view


async def test_attempts_sit_together_and_their_tab_compares_them(tmp_path: Path) -> None:
    app = board_with_attempts(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        table = app.board.table
        assert table.visible_ids == ["grp00001", "grp00002", "solo0001"]
        assert str(table.get_cell("grp00001", "title")) == "1/2 Fix the failing test"
        assert str(table.get_cell("grp00002", "title")) == "2/2 Fix the failing test"
        assert str(table.get_cell("solo0001", "title")) == "Other work"

        await pilot.press("enter")
        view = active_view(app)
        assert view.task_id == "grp00001"
        assert "attempt 1 of 2" in str(view.query_one(".task-header", Static).render())
        await pilot.pause()
        assert " c Attempts" in str(app.board.query_one(KeyHints).content)

        await pilot.press("c")
        assert view.panes.active == ATTEMPTS_PANE
        panel = view.query_one(AttemptsPanel)
        assert panel.table.has_focus
        assert row_text(panel, 0)[:5] == ["1", "2", "grp00002", "ready", "✓ 1 pass 0 fail"]
        assert row_text(panel, 1)[:5] == ["▸ 2", "1", "grp00001", "ready", "✗ 0 pass 1 fail"]
        reasons = panel.query_one(".attempt-reasons", Static)
        assert "Attempt 1 (grp00001): 1 of 1 check failing" in str(reasons.render())
        assert 'the answer says "All tests pass"' in str(reasons.render())

        await pilot.press("up")
        assert "Attempt 2 (grp00002): 1 check passing" in str(reasons.render())
        await pilot.press("enter")
        assert active_view(app).task_id == "grp00002"

        await pilot.press("escape", "down", "down", "enter")
        assert active_view(app).task_id == "solo0001"
        assert not active_view(app).query(AttemptsPanel)
        await pilot.pause()
        assert " c Attempts" not in str(app.board.query_one(KeyHints).content)


async def test_the_composer_refuses_attempts_outside_one_to_four(tmp_path: Path) -> None:
    app = board_with_attempts(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("n", *"do it")
        composer = app.screen
        assert isinstance(composer, ComposerScreen)
        for value in ("5", "0", "two"):
            composer.query_one("#attempts", Input).value = value
            await pilot.press("ctrl+s")
            error = str(composer.query_one("#composer-error").render())
            assert f"Attempts must be 1 to 4, not {value}." in error
        assert app.screen is composer
        assert len(app.engine.tasks()) == 3


@pytest.mark.usefixtures("docker_available")
async def test_the_composer_starts_attempts_of_one_task_and_compares_them(
    tmp_path: Path,
) -> None:
    repo = make_calc_repo(tmp_path / "calc")
    conversations = [
        [Reply(tool_calls=[shell(*TEST_COMMAND)]), Reply(text="The test fails.")],
        [Reply(text="Nothing to change.")],
    ]
    log = EventLog()
    with ScriptedModelServer(conversations=conversations) as server:
        app = ServedBoard(
            scripted_engine(tmp_path / "home", server, "responses"), repo, clock=time.time
        )
        async with app.run_test(size=SIZE, message_hook=log) as pilot:
            await pilot.press("n", *"Look at calc")
            app.screen.query_one("#attempts", Input).value = "2"
            await pilot.press("ctrl+s")
            await wait_until(pilot, lambda: app.screen is app.board, "the composer to close")
            ids = app.board.table.visible_ids
            assert len(ids) == 2
            first, second = app.engine.attempts(ids[0])
            assert (first.attempt, second.attempt) == (1, 2)
            assert first.group == second.group == first.id
            assert ids == [first.id, second.id]
            await wait_until(
                pilot, lambda: log.finished(first.id) and log.finished(second.id), "both ends"
            )
            await pilot.press("enter", "c")
            panel = active_view(app).query_one(AttemptsPanel)
            await wait_until(
                pilot, lambda: row_text(panel, 1)[3] == "ready", "the ranking to update"
            )
            ranked = [row_text(panel, index)[4] for index in range(2)]
            assert ranked == ["— none ran", "✗ 0 pass 1 fail"]
