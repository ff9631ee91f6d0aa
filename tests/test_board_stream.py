"""A task tab's stream: a hidden stream mounts nothing; a long loop mounts a slice per frame,
every block and line in order, then the live tail."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from textual.css.stylesheet import Stylesheet
from textual.dom import DOMNode

from engine.api import Engine
from engine.views.events import CommandStarted, OutputChunk
from tests.support.board import (
    FROZEN_NOW,
    ServedBoard,
    store_command,
    store_task,
    stored_engine,
    wait_until,
)
from tui.screens.board import BOARD_TAB, pane_id
from tui.widgets.command_block import CommandBlock
from tui.widgets.stream_note import StreamNote
from tui.widgets.task_stream import MOUNT_SLICE

SIZE = (120, 40)
TASK = "eeee0005"


def running_task_with_commands(tmp_path: Path, finished: int) -> Engine:
    """A running task with `finished` commands of two lines each, then one still running."""
    engine = stored_engine(tmp_path / "home")
    store_task(engine, TASK, status="running", prompt="Build every module")
    for number in range(finished):
        started = FROZEN_NOW - 500 + number
        output = f"{number} one\n{number} two\n"
        command = ["make", f"module{number}"]
        store_command(
            engine, TASK, f"c{number:04d}", command, output, started=started, finished=started + 1
        )
    store_command(
        engine,
        TASK,
        "c-last",
        ["make", "test"],
        "first\n",
        started=FROZEN_NOW - 10,
        finished=None,
        exit_code=None,
    )
    return engine


async def test_a_long_loop_mounts_every_block_in_order_then_shows_the_live_tail(
    tmp_path: Path,
) -> None:
    finished = 3 * MOUNT_SLICE + 5
    engine = running_task_with_commands(tmp_path, finished)
    app = ServedBoard(engine, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await app.board.open_task(TASK)
        view = app.board.task_view(TASK)
        assert view is not None
        stream = view.stream
        await wait_until(pilot, lambda: not stream.unmounted, "every block mounted")
        shown = [child for child in stream.children if isinstance(child, CommandBlock | StreamNote)]
        assert shown == stream.items
        chunk_ids = [child.chunk_id for child in shown if isinstance(child, CommandBlock)]
        assert chunk_ids == [*(f"c{number:04d}" for number in range(finished)), "c-last"]

        engine.bus.emit(OutputChunk(task_id=TASK, chunk_id="c-last", text="live\n", offset=6))
        last = stream.blocks["c-last"]
        await wait_until(pilot, lambda: list(last.output.lines) == ["first", "live"], "the tail")

        for block in stream.blocks.values():
            block.collapsed = False
        expected = {
            f"c{number:04d}": [f"{number} one", f"{number} two"] for number in range(finished)
        }

        def written() -> dict[str, list[str]]:
            blocks = stream.blocks.values()
            return {b.chunk_id: list(b.output.lines) for b in blocks if b.chunk_id != "c-last"}

        await wait_until(pilot, lambda: written() == expected, "every command's lines")


async def test_a_hidden_tab_mounts_a_new_command_only_once_shown(tmp_path: Path) -> None:
    engine = running_task_with_commands(tmp_path, 1)
    app = ServedBoard(engine, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await app.board.open_task(TASK)
        view = app.board.task_view(TASK)
        assert view is not None
        await wait_until(pilot, lambda: not view.stream.unmounted, "the loop mounted")
        app.board.tabs.active = BOARD_TAB
        await pilot.pause()
        started = CommandStarted(
            task_id=TASK, chunk_id="c-new", command=["make", "lint"], workdir="/w", phase="agent"
        )
        engine.bus.emit(started)
        engine.bus.emit(OutputChunk(task_id=TASK, chunk_id="c-new", text="hidden\n"))
        await wait_until(pilot, lambda: "c-new" in view.stream.blocks, "the new command")
        block = view.stream.blocks["c-new"]
        await wait_until(pilot, lambda: block.output.buffered_line_count, "its output")
        assert block.parent is None and view.stream.unmounted == 1

        app.board.tabs.active = pane_id(TASK)
        await wait_until(pilot, lambda: list(block.output.lines) == ["hidden"], "the block shown")
        assert view.stream.children[-1] is block


async def test_switching_tabs_restyles_no_block_of_their_streams(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = running_task_with_commands(tmp_path, MOUNT_SLICE)
    app = ServedBoard(engine, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await app.board.open_task(TASK)
        view = app.board.task_view(TASK)
        assert view is not None
        await wait_until(pilot, lambda: not view.stream.unmounted, "the loop mounted")
        restyled: list[object] = []
        apply = Stylesheet.apply

        def recording_apply(self: Stylesheet, node: DOMNode, **kwargs: Any) -> None:
            restyled.append(node)
            apply(self, node, **kwargs)

        monkeypatch.setattr(Stylesheet, "apply", recording_apply)
        await pilot.press("escape")
        assert app.board.tabs.active == BOARD_TAB
        await app.board.open_task(TASK)
        await pilot.pause()
        assert app.focused is view.stream
        assert not [node for node in restyled if node in view.stream.items]


async def test_a_tab_closed_while_its_loop_mounts_leaves_the_board_working(
    tmp_path: Path,
) -> None:
    engine = running_task_with_commands(tmp_path, 10 * MOUNT_SLICE)
    app = ServedBoard(engine, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await app.board.open_task(TASK)
        view = app.board.task_view(TASK)
        assert view is not None
        await wait_until(pilot, lambda: view.stream.children, "the first slice")
        await pilot.press("w")
        assert app.board.task_view(TASK) is None
        await pilot.pause(0.2)
        await app.board.open_task(TASK)
        reopened = app.board.task_view(TASK)
        assert reopened is not None and reopened is not view
        await wait_until(pilot, lambda: not reopened.stream.unmounted, "the loop mounted again")
