"""Colour and paging for the CLI's own output, as git does them.

Colour only on a terminal, and never when NO_COLOR is set (https://no-color.org) or TERM is
dumb. Output longer than the screen goes through $PAGER (`less` with LESS=FRX by default). The
escape sequences are taskyard's own `Styled` constants; the text between them still passes the
TerminalWriter, so nothing a task wrote can colour or move anything.
"""

from __future__ import annotations

import contextlib
import io
import os
import shlex
import shutil
import subprocess
import sys
from collections.abc import Iterator
from typing import TextIO

from tui.present import Styled, TerminalWriter

STYLES = {
    "bold": Styled("\x1b[1m"),
    "dim": Styled("\x1b[2m"),
    "red": Styled("\x1b[31m"),
    "green": Styled("\x1b[32m"),
    "yellow": Styled("\x1b[33m"),
    "cyan": Styled("\x1b[36m"),
}
RESET = Styled("\x1b[0m")
DEFAULT_PAGER = "less"
DEFAULT_LESS = "FRX"
"""git's: quit when the text fits one screen, pass colours, leave the text on the screen."""


def colour_wanted(stream: TextIO) -> bool:
    """Whether to colour what goes to `stream`."""
    if os.environ.get("NO_COLOR") or os.environ.get("TERM") == "dumb":
        return False
    return stream.isatty()


def write(text: str, style: str = "", stream: TextIO | None = None) -> None:
    """`text` in `style` (a key of STYLES) when colour is wanted, else as it is."""
    out = stream or sys.stdout
    coloured = bool(style) and colour_wanted(out)
    if coloured:
        out.write(STYLES[style])
    out.write(text)
    if coloured:
        out.write(RESET)


def diff_style(line: str) -> str:
    """The style of one line of a unified diff, as `git diff` colours it."""
    if line.startswith(("diff --git", "index ", "--- ", "+++ ")):
        return "bold"
    if line.startswith("@@"):
        return "cyan"
    if line.startswith("+"):
        return "green"
    if line.startswith("-"):
        return "red"
    return ""


def write_diff(diff: str) -> None:
    """A unified diff (made safe to show already), coloured line by line."""
    for line in diff.splitlines():
        write(line, diff_style(line))
        write("\n")


class _Captured(io.StringIO):
    """What a command prints to a terminal while paging is considered."""

    def isatty(self) -> bool:
        return True


def pager_command() -> list[str] | None:
    """$PAGER (or less) split into argv; None when paging is off (`cat`, empty) or absent."""
    configured = os.environ.get("PAGER", DEFAULT_PAGER).strip()
    argv = shlex.split(configured) if configured else []
    if not argv or argv[0] == "cat" or shutil.which(argv[0]) is None:
        return None
    return argv


@contextlib.contextmanager
def paged() -> Iterator[None]:
    """On a terminal with a pager, gather what is printed inside and send it through the
    pager when it is longer than the screen (else print it); elsewhere print as it comes."""
    real = sys.stdout
    argv = pager_command() if real.isatty() else None
    if argv is None:
        yield
        return
    captured = _Captured()
    sys.stdout = TerminalWriter(captured)
    try:
        yield
    finally:
        sys.stdout = real
        show(captured.getvalue(), real, argv)


def show(text: str, out: TextIO, argv: list[str]) -> None:
    """Print text already made safe, through the pager when it does not fit the screen."""
    if text.count("\n") < shutil.get_terminal_size().lines:
        out.write(Styled(text))
        out.flush()
        return
    env = {**os.environ, "LESS": os.environ.get("LESS", DEFAULT_LESS)}
    with contextlib.suppress(BrokenPipeError, KeyboardInterrupt):
        subprocess.run(argv, input=text, text=True, env=env, check=False)
