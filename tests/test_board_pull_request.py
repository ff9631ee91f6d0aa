"""`p` in the board: shown for tasks with a result, it pushes and opens the pull request."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.delivery.forge_target import NO_GH_ENV
from tests.support.board import FROZEN_NOW, ServedBoard, store_task, stored_engine, wait_until
from tests.support.delivery import remote_sha, repo_with_remote, store_ready_task
from tests.support.forge_server import fake_forge
from tui.widgets.key_hints import KeyHints

SIZE = (120, 40)
TOKEN = "board-token"


@pytest.fixture(autouse=True)
def github_token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GITHUB_TOKEN", raising=False)
    monkeypatch.setenv("GH_TOKEN", TOKEN)
    monkeypatch.setenv(NO_GH_ENV, "1")


async def test_p_opens_the_pull_request_of_the_selected_task(tmp_path: Path) -> None:
    repo, bare = repo_with_remote(tmp_path)
    with fake_forge(TOKEN) as forge:
        settings = {"api_url": forge.github_url, "repo": "acme/calc"}
        engine = stored_engine(tmp_path / "home", forge=settings)
        store_ready_task(engine, repo, "aaaa0001")
        store_task(engine, "bbbb0002", status="failed", created=FROZEN_NOW - 100)
        app = ServedBoard(engine, tmp_path)
        async with app.run_test(size=SIZE) as pilot:
            hints = app.board.query_one(KeyHints)
            await pilot.pause()
            assert app.board.table.selected_task_id == "bbbb0002"
            assert " p PR " not in str(hints.content)
            await pilot.press("p")
            await pilot.pause()
            assert forge.requests == []
            await pilot.press("down")
            await pilot.pause()
            assert " p PR " in str(hints.content)
            await pilot.press("p")
            url = f"{forge.github_url}/acme/calc/pull/1"

            def opened() -> bool:
                notices = [note.message for note in app._notifications]
                status = str(app.board.table.get_cell("aaaa0001", "status"))
                return f"Pull request #1 opened: {url}" in notices and "pr-opened" in status

            await wait_until(pilot, opened, "the pull request notice and status")
            await pilot.press("enter")
            await pilot.press("t")
            await pilot.pause()
            view = app.board.views["aaaa0001"]
            assert f"Pull request #1: {url}" in str(view.result.query_one(".result-note").render())
            record = engine.task("aaaa0001")
    assert [request.method for request in forge.requests] == ["POST"]
    assert remote_sha(bare, "taskyard/aaaa0001") == record.head_sha
    assert (record.status, record.pr_number, record.pr_url) == ("pr-opened", 1, url)


async def test_a_refused_pull_request_is_an_error_notice(tmp_path: Path) -> None:
    repo, _bare = repo_with_remote(tmp_path)
    with fake_forge(TOKEN) as forge:
        settings = {"api_url": forge.github_url, "repo": "acme/calc"}
        engine = stored_engine(tmp_path / "home", forge=settings)
        store_ready_task(engine, repo, "aaaa0001")
        forge.failures.append((401, {"message": "Bad credentials"}))
        app = ServedBoard(engine, tmp_path)
        async with app.run_test(size=SIZE) as pilot:
            await pilot.press("p")

            def errors() -> list[str]:
                return [n.message for n in app._notifications if n.severity == "error"]

            await wait_until(pilot, errors, "the error notice")
            [error] = errors()
            record = engine.task("aaaa0001")
    assert error.startswith("taskyard/aaaa0001 is pushed to origin, but GitHub rejected the token")
    assert (record.status, record.pr_number) == ("ready", 0)
