"""The board as one client of the service among others: a task it did not start, and the
service going away (two boards at once are in test_board_tmux.py)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from engine.paths import Paths
from engine.service.client import ServiceClient
from engine.views.events import TaskQueued
from tests.support.board import FROZEN_NOW, ServedBoard, store_task, stored_engine, wait_until
from tests.support.service import served
from tui.app import TaskyardApp

SIZE = (120, 40)


@contextlib.asynccontextmanager
async def opened(paths: Paths) -> AsyncIterator[ServiceClient]:
    """A client of the service already running for `paths`."""
    client = await ServiceClient.open(paths, "board")
    try:
        yield client
    finally:
        await client.close()


def notices(app: TaskyardApp) -> list[str]:
    return [notification.message for notification in app._notifications]


async def test_a_task_queued_by_another_client_gets_its_row(tmp_path: Path) -> None:
    app = ServedBoard(stored_engine(tmp_path / "home"), tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert app.board.table.rows_by_id == {}
        record = store_task(app.engine, "eeee0005", prompt="Started elsewhere", status="queued")
        queued = TaskQueued(
            task_id=record.id,
            prompt=record.prompt,
            repo=record.repo,
            ref=record.ref,
            mode=record.mode,
            environment=record.environment,
            image=record.image,
        )
        app.engine.bus.emit(queued)
        table = app.board.table
        await wait_until(pilot, lambda: "eeee0005" in table.rows_by_id, "the new row", 10)
        assert str(table.get_cell("eeee0005", "title")) == "Started elsewhere"
        assert not app.board.empty


async def test_the_service_going_away_is_a_notice_that_says_how_to_reopen(tmp_path: Path) -> None:
    engine = stored_engine(tmp_path / "home")
    store_task(engine, "aaaa0001")
    async with served(engine) as service:
        app = TaskyardApp(
            lambda: opened(engine.paths),
            engine.config,
            engine.paths.config_dir,
            tmp_path,
            clock=lambda: FROZEN_NOW,
        )
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            service.stop()
            await wait_until(pilot, lambda: notices(app), "the notice", 10)
            [notice] = notices(app)
            assert notice.startswith("The taskyard service went away")
            assert "run taskyard again to reopen the board" in notice
            await pilot.press("d")
            await wait_until(pilot, lambda: len(notices(app)) > 1, "the failed call's notice", 10)
            assert app.is_running and "aaaa0001" in app.board.table.rows_by_id
            await pilot.press("q")
        assert app.return_code == 0


async def test_a_task_archived_or_brought_back_by_another_client_follows_on_the_board(
    tmp_path: Path,
) -> None:
    app = ServedBoard(stored_engine(tmp_path / "home"), tmp_path)
    store_task(app.engine, "ffff0006", prompt="Archived elsewhere")
    async with app.run_test(size=SIZE) as pilot:
        table = app.board.table
        await wait_until(pilot, lambda: "ffff0006" in table.visible_ids, "the row", 10)
        async with opened(app.engine.paths) as other:
            await other.archive("ffff0006")
            await wait_until(pilot, lambda: "ffff0006" not in table.visible_ids, "removal", 10)
            await other.archive("ffff0006", archived=False)
            await wait_until(pilot, lambda: "ffff0006" in table.visible_ids, "the row again", 10)


async def test_the_board_says_when_the_service_reads_other_values_than_its_shell(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = stored_engine(tmp_path / "home")
    monkeypatch.setenv("OPENAI_API_KEY", "the-key-the-service-has")
    async with served(engine):
        monkeypatch.setenv("OPENAI_API_KEY", "another-key")
        app = TaskyardApp(
            lambda: opened(engine.paths),
            engine.config,
            engine.paths.config_dir,
            tmp_path,
            clock=lambda: FROZEN_NOW,
        )
        async with app.run_test(size=SIZE) as pilot:
            await wait_until(pilot, lambda: notices(app), "the notice", 10)
            assert notices(app) == [
                "the running service has other values of OPENAI_API_KEY than this shell: "
                "`taskyard serve stop` so the next command starts one with yours"
            ]
            await pilot.press("q")
