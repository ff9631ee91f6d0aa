"""`taskyard show` on a terminal: coloured as git colours diffs, paged through $PAGER when
longer than the screen; plain with NO_COLOR or when not a terminal. `taskyard logs TASK CHUNK`
pages a long output the same way, inert."""

from __future__ import annotations

import os
import pty
import subprocess
from pathlib import Path

from tests.support.board import CALC_DIFF, store_command, store_task, stored_engine
from tests.support.cli import TASKYARD, run_taskyard

GREEN, RED, RESET = "\x1b[32m", "\x1b[31m", "\x1b[0m"
LONG_DIFF = "".join(
    [
        "diff --git a/big b/big\n--- a/big\n+++ b/big\n@@ -1,40 +1,40 @@\n",
        *(f"-old {number}\n+new {number}\n" for number in range(40)),
    ]
)


def on_a_terminal(tmp_path: Path, *args: str, **env: str) -> tuple[str, str]:
    """Run `taskyard ARGS` with its stdout on a pty of 24 lines; what the terminal got and what
    the pager (a script saving its input) got."""
    paged = tmp_path / "paged.txt"
    paged.unlink(missing_ok=True)
    inherited = {name: value for name, value in os.environ.items() if name != "NO_COLOR"}
    environment = {
        **inherited,
        "TASKYARD_HOME": str(tmp_path / "home"),
        "PAGER": f"sh -c 'cat > {paged}'",
        "LINES": "24",
        "COLUMNS": "100",
        "TERM": "xterm-256color",
        **env,
    }
    leader, follower = pty.openpty()
    ran = subprocess.run(
        [TASKYARD, *args], stdout=follower, stderr=subprocess.PIPE, env=environment, timeout=120
    )
    os.close(follower)
    shown = b""
    while True:
        try:
            data = os.read(leader, 65536)
        except OSError:
            break
        if not data:
            break
        shown += data
    os.close(leader)
    assert ran.returncode == 0, ran.stderr
    return shown.decode(), paged.read_text() if paged.exists() else ""


async def stored(tmp_path: Path) -> None:
    engine = stored_engine(tmp_path / "home")
    store_task(engine, "aaaa0001", diff=CALC_DIFF)
    store_task(engine, "bbbb0002", diff=LONG_DIFF, final_message="\x1b[31mnot ours\x1b[0m")
    await engine.close()


async def test_a_short_result_is_coloured_on_the_terminal_itself(tmp_path: Path) -> None:
    await stored(tmp_path)
    shown, paged = on_a_terminal(tmp_path, "show", "aaaa0001")
    assert paged == ""
    assert f"{GREEN}+    return a + b{RESET}" in shown and f"{RED}-    return a - b{RESET}" in shown


async def test_a_long_result_goes_through_the_pager_coloured_and_still_inert(
    tmp_path: Path,
) -> None:
    await stored(tmp_path)
    shown, paged = on_a_terminal(tmp_path, "show", "bbbb0002")
    assert shown == ""
    assert f"{GREEN}+new 39{RESET}" in paged and f"{RED}-old 0{RESET}" in paged
    assert "\x1b[31mnot ours" not in paged and "not ours" in paged


async def test_no_color_and_a_pipe_get_no_escape_sequences(tmp_path: Path) -> None:
    await stored(tmp_path)
    shown, _ = on_a_terminal(tmp_path, "show", "aaaa0001", NO_COLOR="1")
    assert "\x1b[" not in shown and "+    return a + b" in shown
    piped = run_taskyard(
        "show", "bbbb0002", env={**os.environ, "TASKYARD_HOME": str(tmp_path / "home")}
    )
    assert "\x1b[" not in piped.stdout and "+new 39" in piped.stdout


async def test_a_long_command_output_goes_through_the_pager_inert(tmp_path: Path) -> None:
    engine = stored_engine(tmp_path / "home")
    store_task(engine, "aaaa0001")
    hostile = "".join(f"line {number}\x1b]0;pwned\x07\x1b[2J\x9b2J\n" for number in range(100))
    store_command(engine, "aaaa0001", "c0ffee01", ["make"], hostile)
    store_command(engine, "aaaa0001", "c0ffee02", ["ls"], "one\x1b[2J\n")
    await engine.close()
    shown, paged = on_a_terminal(tmp_path, "logs", "aaaa0001", "c0ffee01")
    assert shown == ""
    assert paged == "".join(f"line {number}\n" for number in range(100))
    shown, paged = on_a_terminal(tmp_path, "logs", "aaaa0001", "c0ffee02")
    assert paged == "" and shown == "one\r\n"
