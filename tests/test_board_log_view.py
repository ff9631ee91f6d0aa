"""`o` on a command block or a check opens the command's whole output on a screen of its own:
200,000 lines open at the end, `home` shows the first, `escape` goes back; `p` hands an inert
copy to $PAGER while the board is suspended."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from textual.drivers.headless_driver import HeadlessDriver
from textual.pilot import Pilot

from tests.support.board import (
    ServedBoard,
    store_command,
    store_task,
    stored_engine,
    wait_until,
)
from tui.app import TaskyardApp
from tui.present import plain
from tui.screens.help import HelpScreen
from tui.screens.log_view import LogScreen, inert_copy
from tui.widgets.check_list import CheckList
from tui.widgets.key_hints import KeyHints
from tui.widgets.task_view import LOG_PANE

SIZE = (120, 40)
TASK = "aaaa0001"
LONG = 200_000
LONG_OUTPUT = "".join(f"line {number} of the build\n" for number in range(1, LONG + 1))
HOSTILE = "\x1b]0;pwned\x07\x1b[2J\x1b[?1049h\x9b2J\x85\x7f"


def board_with_commands(tmp_path: Path) -> ServedBoard:
    """A ready task whose first command printed LONG lines and whose test run failed."""
    engine = stored_engine(tmp_path / "home")
    store_task(engine, TASK)
    store_command(engine, TASK, "c0ffee01", ["make", "-k"], LONG_OUTPUT, exit_code=2)
    store_command(
        engine,
        TASK,
        "c0ffee02",
        ["python3", "-m", "unittest"],
        f"F\nFAILED (failures=1){HOSTILE}\n",
        exit_code=1,
    )
    return ServedBoard(engine, tmp_path)


async def open_log_pane(app: TaskyardApp, pilot: Pilot[Any]) -> None:
    await app.board.open_task(TASK)
    await pilot.pause()
    view = app.board.task_view(TASK)
    assert view is not None
    view.panes.active = LOG_PANE
    view.focus_pane()
    await pilot.pause()


async def opened_log(pilot: Pilot[Any], lines: int) -> LogScreen:
    """The log screen once it holds `lines` lines."""
    screen = pilot.app.screen
    assert isinstance(screen, LogScreen)
    await wait_until(pilot, lambda: screen.log_view.line_count == lines, "the log", 60)
    await pilot.pause()
    return screen


async def open_check_log(app: TaskyardApp, pilot: Pilot[Any]) -> LogScreen:
    """`o` on the task's result's first check: its log screen, once read."""
    await app.board.open_task(TASK)
    await pilot.pause()
    app.board.query_one(CheckList).focus()
    await pilot.press("o")
    return await opened_log(pilot, 2)


def shown_lines(screen: LogScreen) -> list[str]:
    """The rows of the log as drawn, trailing blanks dropped."""
    log = screen.log_view
    rows = [log.render_line(y).text.rstrip() for y in range(log.scrollable_content_region.height)]
    while rows and not rows[-1]:
        rows.pop()
    return rows


async def test_o_on_a_command_opens_its_whole_long_log_at_the_end_and_home_shows_the_start(
    tmp_path: Path,
) -> None:
    app = board_with_commands(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await open_log_pane(app, pilot)
        view = app.board.task_view(TASK)
        assert view is not None
        block = view.stream.blocks["c0ffee01"]
        await pilot.press("tab")
        assert app.focused is not None and block in app.focused.ancestors
        await pilot.pause()
        assert " o Full log " in str(app.board.query_one(KeyHints).content)

        await pilot.press("o")
        screen = await opened_log(pilot, LONG)
        assert shown_lines(screen)[-1] == f"line {LONG} of the build"
        title = str(screen.query_one("#log-title").render())
        assert "command c0ffee01" in title and "200,000 lines" in title and "make -k" in title
        await pilot.press("home")
        assert shown_lines(screen)[:2] == ["line 1 of the build", "line 2 of the build"]
        await pilot.press("G")
        assert shown_lines(screen)[-1] == f"line {LONG} of the build"

        await pilot.press("escape")
        assert app.screen is app.board
        assert app.focused is not None and block in app.focused.ancestors


async def test_o_on_a_check_opens_that_run_s_log_inert(tmp_path: Path) -> None:
    app = board_with_commands(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_check_log(app, pilot)
        assert shown_lines(screen) == ["F", "FAILED (failures=1)"]
        assert "python3 -m unittest" in str(screen.query_one("#log-title").render())


async def test_help_lists_the_log_keys(tmp_path: Path) -> None:
    app = board_with_commands(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("question_mark")
        help_screen = app.screen
        assert isinstance(help_screen, HelpScreen)
        rows = {
            action: keys
            for title, bindings in help_screen.sections
            if title == "Full log"
            for keys, action, _what in help_screen.key_rows(bindings)
        }
        assert rows["Full log"] == "o" and rows["Pager"] == "p" and rows["Back"] == "esc, q"


def test_the_pager_s_copy_is_inert(tmp_path: Path) -> None:
    copy = inert_copy(f"one{HOSTILE}\ttwo\r\nthree\n")
    try:
        assert copy.read_text() == plain(f"one{HOSTILE}\ttwo\r\nthree\n") == "one\ttwo\nthree\n"
        assert copy.stat().st_mode & 0o077 == 0
    finally:
        copy.unlink()


class SuspendingDriver(HeadlessDriver):
    """A headless driver that can be suspended, as a terminal's can, and counts it."""

    suspended = 0
    resumed = 0

    @property
    def can_suspend(self) -> bool:
        return True

    def suspend_application_mode(self) -> None:
        SuspendingDriver.suspended += 1

    def resume_application_mode(self) -> None:
        SuspendingDriver.resumed += 1


async def test_p_pages_an_inert_copy_while_the_board_is_suspended(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    saved = tmp_path / "paged.txt"
    pager = tmp_path / "pager.sh"
    pager.write_text(f'#!/bin/sh\necho "$@" > {tmp_path}/pager-args\ncat "$1" > {saved}\n')
    pager.chmod(0o755)
    monkeypatch.setenv("PAGER", str(pager))
    app = board_with_commands(tmp_path)
    app.driver_class = SuspendingDriver
    async with app.run_test(headless=False, size=SIZE) as pilot:
        screen = await open_check_log(app, pilot)
        assert " p Pager " in str(screen.query_one(KeyHints).content)
        await pilot.press("p")
        await wait_until(pilot, lambda: saved.exists(), "the pager", 30)
        assert app.screen is screen
    assert saved.read_text() == "F\nFAILED (failures=1)\n"
    assert (SuspendingDriver.suspended, SuspendingDriver.resumed) == (1, 1)
    copy = Path((tmp_path / "pager-args").read_text().strip())
    assert copy.name.startswith("taskyard-log-") and not copy.exists()


async def test_without_a_pager_p_is_not_offered(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PAGER", "cat")
    app = board_with_commands(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_check_log(app, pilot)
        assert "Pager" not in str(screen.query_one(KeyHints).content)
