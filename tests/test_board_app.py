"""The board without Docker: stored tasks, filter, sort, composer, archive, help, quit."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.color import Color
from textual.command import CommandList, CommandPalette
from textual.widget import Widget
from textual.widgets import Checkbox, Input, Label, Markdown, Select, Static, TextArea

from engine.git.gitops import prepare_source
from engine.views.events import AgentMessage, FollowUpStarted, PatchApplied, TaskStatusChanged
from engine.views.request import TaskRequest
from engine.views.task import TaskRecord
from tests.support.board import (
    CALC_DIFF,
    FROZEN_NOW,
    ServedBoard,
    store_command,
    store_task,
    stored_engine,
    wait_until,
)
from tests.support.repos import CALC_TEST, make_calc_repo
from tui.app import TaskyardApp
from tui.screens.board_keys import ACTIONS
from tui.screens.composer import ANY_HOST, KEYS_HINT, ComposerScreen
from tui.screens.help import HelpScreen
from tui.widgets.answer_view import AnswerView
from tui.widgets.check_list import CheckList
from tui.widgets.citation_list import CitationList
from tui.widgets.command_block import CommandBlock
from tui.widgets.file_stats import FileStats
from tui.widgets.key_hints import KeyHints
from tui.widgets.stream_note import AgentNote, StreamNote
from tui.widgets.task_table import COLUMNS, MIN_TITLE_WIDTH, SORT_MARK, TaskTable, fitting_columns
from tui.widgets.task_view import LOG_PANE, RESULT_PANE

SIZE = (120, 40)


def board_app(tmp_path: Path, **config: object) -> TaskyardApp:
    engine = stored_engine(tmp_path / "home", **config)
    store_task(engine, "aaaa0001", prompt="Fix the failing test\nin calc.py", diff=CALC_DIFF)
    store_task(
        engine,
        "bbbb0002",
        prompt="Why does the parser drop the last token?",
        mode="ask",
        status="failed",
        created=FROZEN_NOW - 500,
        error="the agent was stopped at max_turns",
    )
    store_task(engine, "cccc0003", prompt="Add a --verbose flag", created=FROZEN_NOW - 400)
    store_task(engine, "dddd0004", prompt="Old work", archived=True)
    return ServedBoard(engine, tmp_path)


def cell_text(table: TaskTable, task_id: str, column: str) -> str:
    return str(table.get_cell(task_id, column))


async def test_board_lists_stored_tasks_newest_first(tmp_path: Path) -> None:
    app = board_app(tmp_path)
    async with app.run_test(size=(160, 40)) as pilot:
        await pilot.pause()
        table = app.board.table
        assert table.visible_ids == ["cccc0003", "bbbb0002", "aaaa0001"]
        assert cell_text(table, "aaaa0001", "title") == "Fix the failing test"
        assert cell_text(table, "aaaa0001", "repo") == "calc@main"
        assert cell_text(table, "aaaa0001", "host") == "local"
        assert cell_text(table, "aaaa0001", "status") == "✓ ready 5m00s"
        assert cell_text(table, "aaaa0001", "diff") == "+1 -1"
        assert cell_text(table, "bbbb0002", "status").startswith("✗ failed")
        assert cell_text(table, "bbbb0002", "mode") == "ask"


async def test_cost_column_prices_tokens_when_prices_are_configured(tmp_path: Path) -> None:
    prices = {"input_price_per_million": 1.25, "output_price_per_million": 10.0}
    app = board_app(tmp_path, model_client=prices)
    app.engine.store.update_task(
        "aaaa0001", usage={"input_tokens": 2_000_000, "output_tokens": 300_000}
    )
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert cell_text(app.board.table, "aaaa0001", "cost") == "$5.50"
        assert cell_text(app.board.table, "cccc0003", "cost") == "$0.00"
    unpriced = board_app(tmp_path / "unpriced")
    async with unpriced.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert not unpriced.board.table.is_shown("cost"), "no prices, no Cost column"


async def test_filter_by_words_and_status_then_sort(tmp_path: Path) -> None:
    app = board_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        table = app.board.table
        await pilot.press("slash")
        assert app.focused is app.board.query_one("#filter", Input)
        await pilot.press(*"parser")
        assert table.visible_ids == ["bbbb0002"]
        app.board.query_one("#filter", Input).value = "status:ready"
        await pilot.pause()
        assert table.visible_ids == ["cccc0003", "aaaa0001"]
        await pilot.press("enter")
        assert app.focused is table
        await pilot.press("escape")
        assert table.visible_ids == ["cccc0003", "bbbb0002", "aaaa0001"]
        await pilot.press("s")
        assert table.row_order == "status"
        assert table.visible_ids == ["cccc0003", "aaaa0001", "bbbb0002"]
        await pilot.press("s")
        assert table.visible_ids == ["cccc0003", "aaaa0001", "bbbb0002"]
        assert table.row_order == "title"
        await pilot.press("slash", "f", "n")
        assert app.screen is app.board
        assert app.board.query_one("#filter", Input).value == "fn"


async def test_composer_fields_defaults_and_cancel(tmp_path: Path) -> None:
    environments = {"web": {"setup": "true"}}
    app = board_app(tmp_path, environments=environments)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("n")
        composer = app.screen
        assert isinstance(composer, ComposerScreen)
        assert composer.query_one("#repo", Input).value == str(tmp_path)
        environment = composer.query_one("#environment", Select)
        assert [option[1] for option in environment._options] == ["default", "web"]
        host = composer.query_one("#host", Select)
        assert host.value == ANY_HOST
        host.value = "local"
        assert composer.query_one("#attempts", Input).value == "1"
        await pilot.press("ctrl+s")
        assert "Write a prompt" in str(composer.query_one("#composer-error").render())
        composer.query_one("#prompt", TextArea).text = "do it"
        composer.query_one("#attempts", Input).value = "9"
        await pilot.pause()
        await pilot.press("ctrl+s")
        error = str(composer.query_one("#composer-error").render())
        assert "Attempts must be 1 to 4, not 9." in error
        await pilot.press("escape")
        assert app.screen is app.board
        assert len(app.board.table.visible_ids) == 3


async def test_the_composer_says_uncommitted_changes_are_left_out_or_includes_them(
    tmp_path: Path,
) -> None:
    repo = make_calc_repo(tmp_path / "calc")
    (repo / ".gitignore").write_text("*.log\n")
    (repo / "calc.py").write_text("# mine\n")
    (repo / "build.log").write_text("ignored\n")
    app = ServedBoard(stored_engine(tmp_path / "home"), repo)
    asked: list[TaskRequest] = []

    async def start_task(request: TaskRequest) -> list[TaskRecord]:
        asked.append(request)
        return []

    app.start_task = start_task  # type: ignore[method-assign]
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("n", *"do it")
        composer = app.screen
        note = composer.query_one("#uncommitted-note", Static)
        left_out = "⚠ not part of the task: 2 changes (calc.py, .gitignore)"
        await wait_until(pilot, lambda: str(note.render()) == left_out, "the note")
        assert composer.query_one("#uncommitted-row").display
        assert str(composer.query_one("#composer-keys").render()) == KEYS_HINT
        toggle = composer.query_one("#uncommitted", Checkbox)
        await pilot.press(*["tab"] * 7)
        assert toggle.has_focus and not toggle.value
        await pilot.press("space")
        assert str(note.render()) == "go in as a commit on HEAD: 2 changes (calc.py, .gitignore)"
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: asked, "the request")
        assert asked[0].include_uncommitted and asked[0].repo == str(repo)
        await pilot.press("n")
        composer = app.screen
        composer.query_one("#repo", Input).value = str(tmp_path)
        row = composer.query_one("#uncommitted-row")
        await wait_until(pilot, lambda: not row.display, "the note gone")


async def test_archive_hides_the_task_and_u_brings_it_back(tmp_path: Path) -> None:
    app = board_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        table = app.board.table
        assert table.selected_task_id == "cccc0003"
        await pilot.press("d")
        assert table.visible_ids == ["bbbb0002", "aaaa0001"]
        assert app.engine.task("cccc0003").archived
        assert [task.id for task in app.engine.tasks()] == ["bbbb0002", "aaaa0001"]
        await pilot.press("u")
        await wait_until(pilot, lambda: "cccc0003" in table.visible_ids, "the task back")
        assert not app.engine.task("cccc0003").archived
        await pilot.press("u")
        assert table.visible_ids == ["cccc0003", "bbbb0002", "aaaa0001"]


async def test_the_archived_filter_shows_archived_tasks_and_d_restores_one(
    tmp_path: Path,
) -> None:
    app = board_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        table = app.board.table
        await pilot.press("slash", *"is:archived", "enter")
        assert table.visible_ids == ["dddd0004"]
        await pilot.press("d")
        await wait_until(pilot, lambda: not table.visible_ids, "the restored task to leave")
        assert not app.engine.task("dddd0004").archived
        await pilot.press("slash")
        await pilot.press("escape")
        await wait_until(pilot, lambda: len(table.visible_ids) == 4, "every task")


async def test_help_lists_every_binding_with_keymap_overrides(tmp_path: Path) -> None:
    app = board_app(tmp_path, keymap={"accept": "A", "archive": "D"})
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("question_mark")
        help_screen = app.screen
        assert isinstance(help_screen, HelpScreen)
        rows = {
            action: keys
            for _title, bindings in help_screen.sections
            for keys, action, _what in help_screen.key_rows(bindings)
        }
        assert rows["Accept"] == "A" and rows["Archive"] == "D" and rows["New task"] == "n"
        for binding in app.board.BINDINGS:
            assert binding.description in rows  # type: ignore[union-attr]
        await pilot.press("escape")
        assert app.screen is app.board
        await pilot.press("D")
        assert "cccc0003" not in app.board.table.visible_ids


async def test_q_quits(tmp_path: Path) -> None:
    app = board_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("q")
        await pilot.pause()
        assert app.return_code == 0 and not app.is_running


async def test_a_stored_task_opens_with_its_history_and_tabs_move(tmp_path: Path) -> None:
    app = board_app(tmp_path)
    engine = app.engine
    store_command(engine, "aaaa0001", "c0ffee01", ["ls", "-la"], "one\ntwo\n")
    store_command(engine, "aaaa0001", "c0ffee02", ["false"], "", exit_code=1)
    async with app.run_test(size=SIZE) as pilot:
        board = app.board
        board.table.move_cursor(row=board.table.get_row_index("aaaa0001"))
        await pilot.press("enter")
        view = board.task_view("aaaa0001")
        assert view is not None and view.panes.active == RESULT_PANE
        await pilot.press("t")
        assert view.panes.active == LOG_PANE
        first, second = view.stream.blocks.values()
        first.collapsed = False
        await wait_until(pilot, lambda: list(first.output.lines) == ["one", "two"], "output", 10)
        assert second.has_class("-failed") and "✗ exit 1" in str(second.title)
        board.table.focus()
        await pilot.press("escape")
        assert board.tabs.active == "board" and app.focused is board.table
        await pilot.press("up", "up", "enter")
        assert board.tabs.active == "task-cccc0003"
        await pilot.press("right_square_bracket")
        assert board.tabs.active == "board"
        await pilot.press("left_square_bracket")
        assert board.tabs.active == "task-cccc0003"
        await pilot.press("w")
        assert board.tabs.active == "board" and board.task_view("cccc0003") is None


async def test_a_reopened_task_replays_its_whole_loop_in_order(tmp_path: Path) -> None:
    app = board_app(tmp_path)
    engine, task_id = app.engine, "aaaa0001"
    events = [
        TaskStatusChanged(task_id=task_id, ts=FROZEN_NOW - 590, status="running"),
        AgentMessage(task_id=task_id, ts=FROZEN_NOW - 560, text="Running the tests first.", turn=1),
        PatchApplied(task_id=task_id, ts=FROZEN_NOW - 520, ok=True, summary="M calc.py"),
        FollowUpStarted(task_id=task_id, ts=FROZEN_NOW - 450, prompt="Also add a docstring"),
    ]
    for event in events:
        engine.store.record_event(event)
    store_command(
        engine,
        task_id,
        "c0ffee01",
        ["make", "test"],
        "1 failed\n",
        exit_code=1,
        started=FROZEN_NOW - 550,
        finished=FROZEN_NOW - 549,
    )
    store_command(
        engine,
        task_id,
        "c0ffee02",
        ["make", "test"],
        "ok\n",
        started=FROZEN_NOW - 400,
        finished=FROZEN_NOW - 399,
    )
    async with app.run_test(size=SIZE) as pilot:
        await app.board.open_task(task_id)
        await pilot.press("t")
        view = app.board.task_view(task_id)
        assert view is not None
        await wait_until(pilot, lambda: not view.stream.unmounted, "the loop mounted")
        shown = [
            child.chunk_id
            if isinstance(child, CommandBlock)
            else f"Agent\n{child.text}"
            if isinstance(child, AgentNote)
            else str(child.content)
            for child in view.stream.children
            if isinstance(child, CommandBlock | StreamNote | AgentNote)
        ]
        assert shown == [
            "Prompt\nFix the failing test\nin calc.py",
            "· running",
            "Agent\nRunning the tests first.",
            "c0ffee01",
            "Patch applied\nM calc.py",
            "Follow-up\nAlso add a docstring",
            "c0ffee02",
            "Task ready",
        ]
        first, last = view.stream.blocks.values()
        assert first.collapsed and first.has_class("-failed") and not last.collapsed


async def test_citing_a_file_the_task_left_alone_shows_its_lines(tmp_path: Path) -> None:
    engine = stored_engine(tmp_path / "home")
    repo = make_calc_repo(tmp_path / "calc")
    prepared = prepare_source(str(repo), None, engine.paths.repo_cache_dir, tmp_path / "out")
    citation = {"kind": "file", "target": "test_calc.py", "start": 1, "end": 2, "valid": True}
    store_task(
        engine,
        "aaaa0001",
        repo=str(repo),
        base_sha=prepared.base_sha,
        diff=CALC_DIFF,
        final_message="The test 【F:test_calc.py†L1-L2】 is right.",
        citations=[citation],
    )
    app = ServedBoard(engine, repo)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("enter")
        view = app.board.task_view("aaaa0001")
        assert view is not None
        cited = view.result.query_one(".cited-lines", Static)
        await pilot.press("enter")
        first_lines = CALC_TEST.splitlines()[:2]
        await wait_until(pilot, lambda: first_lines[1] in str(cited.content), "the file's lines")
        assert str(cited.content) == "\n".join(
            f"{number:>5} │ {line}" for number, line in enumerate(first_lines, 1)
        )


async def test_following_a_citation_in_the_answer_shows_its_lines(tmp_path: Path) -> None:
    engine = stored_engine(tmp_path / "home")
    repo = make_calc_repo(tmp_path / "calc")
    prepared = prepare_source(str(repo), None, engine.paths.repo_cache_dir, tmp_path / "out")
    cited = {"kind": "file", "target": "test_calc.py", "start": 1, "end": 2, "valid": True}
    store_task(
        engine,
        "aaaa0001",
        repo=str(repo),
        base_sha=prepared.base_sha,
        diff=CALC_DIFF,
        final_message="Wrong at 【F:calc.py†L9】; the test 【F:test_calc.py†L1-L2】 is right.",
        citations=[{**cited, "target": "calc.py", "start": 9, "end": 9, "valid": False}, cited],
    )
    app = ServedBoard(engine, repo)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("enter")
        view = app.board.task_view("aaaa0001")
        assert view is not None
        answer = view.result.query_one(AnswerView)
        await wait_until(pilot, lambda: len(answer.verdicts) == 2, "the verdicts")
        answer.post_message(Markdown.LinkClicked(answer, "cite:1"))
        lines = view.result.query_one(".cited-lines", Static)
        first = CALC_TEST.splitlines()[1]
        await wait_until(pilot, lambda: first in str(lines.content), "the test's lines")
        citations = view.result.query_one(CitationList)
        await wait_until(pilot, lambda: citations.highlighted == 1, "the citation chosen", 10)


async def test_footer_shows_the_keys_that_apply_to_the_active_tab(tmp_path: Path) -> None:
    app = board_app(tmp_path, keymap={"accept": "A"})
    async with app.run_test(size=SIZE) as pilot:
        hints = app.board.query_one(KeyHints)
        await pilot.pause()
        on_board = str(hints.content)
        assert " n New task " in on_board and " A Accept " in on_board and "^p palette" in on_board
        assert "Log/Result" not in on_board

        await pilot.press("enter")
        await pilot.pause()
        in_tab = str(hints.content)
        assert "Log/Result" in in_tab and " A Accept" in in_tab and " n New task " in in_tab

        await pilot.click(KeyHints, offset=(on_board.index("New task"), 0))
        await pilot.pause()
        assert isinstance(app.screen, ComposerScreen)


@pytest.mark.parametrize("width", [70, 80])
async def test_a_narrow_footer_keeps_the_keys_that_list_every_key_and_quit(
    tmp_path: Path, width: int
) -> None:
    app = board_app(tmp_path)
    async with app.run_test(size=(width, 30)) as pilot:
        await pilot.pause()
        footers = [str(app.board.query_one(KeyHints).content)]
        await pilot.press("enter")
        await pilot.pause()
        footers.append(str(app.board.query_one(KeyHints).content))
    for hints in footers:
        assert hints.startswith(" n New task ") and hints.endswith(" ? Keys   q Quit")
        assert " A Accept " in hints or " a Accept " in hints
        assert "palette" not in hints and len(hints) <= width


def test_live_output_that_history_already_holds_is_skipped() -> None:
    block = CommandBlock("c1", ["ls"], "agent", collapsed=False)
    appended: list[str] = []
    block.output.append = appended.append  # type: ignore[method-assign]
    block.chars_shown = 5
    block.append_output(0, "abc")
    block.append_output(3, "defg")
    block.append_output(7, "h\n")
    assert block.chars_shown == 9
    assert appended == ["fg", "h\n"]


async def test_every_action_is_in_the_command_palette(tmp_path: Path) -> None:
    app = board_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        titles = [command.title for command in app.get_system_commands(app.board)]
        assert {binding.description for binding in ACTIONS} <= set(titles)
        assert sorted(titles) == sorted(set(titles)), "a title listed twice"
        await pilot.press("ctrl+p")
        assert isinstance(app.screen, CommandPalette)
        await pilot.press(*"Archive")
        results = app.screen.query_one(CommandList)
        await wait_until(pilot, lambda: results.option_count, "hits", timeout=10)
        await pilot.press("enter")
        await wait_until(
            pilot, lambda: "cccc0003" not in app.board.table.visible_ids, "archiving", timeout=10
        )
        assert app.engine.task("cccc0003").archived


def focus_bar(app: TaskyardApp, widget: Widget) -> bool:
    """Whether the widget shows the focus style: the bar in the primary colour on its left."""
    edge, color = widget.styles.border_left
    return edge == "outer" and color == Color.parse(app.theme_variables["primary"])


async def test_the_first_tab_in_the_result_lands_on_the_file_list_and_focus_shows(
    tmp_path: Path,
) -> None:
    engine = stored_engine(tmp_path / "home")
    citation = {"kind": "file", "target": "calc.py", "start": 1, "end": 2, "valid": True}
    store_task(
        engine,
        "aaaa0001",
        diff=CALC_DIFF,
        final_message="Fixed 【F:calc.py†L1-L2】.",
        citations=[citation],
    )
    store_command(engine, "aaaa0001", "c0ffee01", ["python3", "-m", "unittest"], "OK\n")
    app = ServedBoard(engine, tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("enter")
        view = app.board.task_view("aaaa0001")
        assert view is not None and view.panes.active == RESULT_PANE
        await pilot.pause()
        answer = view.result.query_one(".result-main")
        files = view.result.query_one(FileStats)
        assert app.focused is answer and focus_bar(app, answer)
        assert files.styles.border_left[0] == "blank" and not focus_bar(app, files)

        await pilot.press("tab")
        assert app.focused is files and files.has_pseudo_class("focus")
        assert focus_bar(app, files) and not focus_bar(app, answer)
        cited = view.result.query_one(".cited-title", Label)
        assert str(cited.content) == "Change  calc.py  whole file"
        assert "+    return a + b" in str(view.result.query_one(".cited-lines", Static).content)

        walked = []
        for _ in range(4):
            await pilot.press("tab")
            assert app.focused is not None and focus_bar(app, app.focused)
            walked.append(type(app.focused))
        assert walked == [CheckList, CitationList, type(answer), FileStats]
        await pilot.press("shift+tab")
        assert app.focused is answer


def test_columns_give_way_to_a_narrow_board_least_important_first() -> None:
    def keys(width: int, sorted_by: str = "age", priced: bool = False) -> list[str]:
        return [column.key for column in fitting_columns(width, sorted_by, priced)]

    assert keys(160, priced=True) == [column.key for column in COLUMNS]
    assert keys(160) == [column.key for column in COLUMNS if column.key != "cost"]
    wide = ["title", "repo", "status", "tokens", "diff", "evidence", "age"]
    assert keys(120) == wide and fitting_columns(120, "age", priced=False)[0].width >= 30
    assert keys(80) == ["title", "status", "diff", "evidence", "age"]
    assert keys(60) == ["title", "status", "diff"]
    assert keys(80, "status") == ["title", "status", "diff", "evidence"]
    assert fitting_columns(60, "status")[0].width >= MIN_TITLE_WIDTH


async def test_a_narrow_board_keeps_status_diff_and_evidence_and_marks_the_sorted_column(
    tmp_path: Path,
) -> None:
    app = board_app(tmp_path)
    app.engine.store.update_task("aaaa0001", verdict="⚠ checks fail")
    async with app.run_test(size=(80, 24)) as pilot:
        table = app.board.table
        await pilot.pause()
        labels = {str(column.key.value): str(column.label) for column in table.columns.values()}
        assert labels["age"] == "Age" + SORT_MARK and "host" not in labels
        assert cell_text(table, "aaaa0001", "diff") == "+1 -1"
        assert cell_text(table, "aaaa0001", "status").startswith("⚠ ready")
        assert cell_text(table, "aaaa0001", "evidence") == "⚠ checks fail"
        assert cell_text(table, "cccc0003", "evidence") == "—"
        await pilot.press("s")
        labels = {str(column.key.value): str(column.label) for column in table.columns.values()}
        assert labels["status"] == "Status" + SORT_MARK
        assert [label for label in labels.values() if SORT_MARK in label] == [labels["status"]]
