"""A command's whole output on a screen of its own, from `o` on a command block or a check.

The output is hostile: the view draws it through OutputLog (every line through
`tui.present.plain`), and `p` hands the pager a temporary copy made inert the same way, with
the board suspended while the pager owns the terminal.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import ClassVar

from textual import on
from textual.app import ComposeResult, SuspendNotSupported
from textual.binding import Binding, BindingType
from textual.content import Content
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Static

from engine.errors import EngineError
from tui.colour import pager_command
from tui.present import plain
from tui.widgets.key_hints import KeyHints
from tui.widgets.output_log import OutputLog

ReadLog = Callable[[], Awaitable[str]]
WHOLE_LOG = sys.maxsize
"""The log view keeps every line (a command block keeps its last few thousand)."""


class PagerError(Exception):
    """The pager could not be started."""


def inert_copy(text: str) -> Path:
    """A new private temporary file holding `text` with every escape sequence and control
    character removed (tui.present.plain: newlines and tabs stay); the caller removes it."""
    handle, name = tempfile.mkstemp(prefix="taskyard-log-", suffix=".txt")
    with os.fdopen(handle, "w", encoding="utf-8", errors="replace") as file:
        file.write(plain(text))
    return Path(name)


def page(text: str, argv: list[str]) -> None:
    """Show `text`, made inert, in the pager `argv` on a temporary copy, and wait for it."""
    path = inert_copy(text)
    try:
        subprocess.run([*argv, str(path)], check=False)
    except OSError as error:
        raise PagerError(f"cannot start the pager {argv[0]!r}: {error.strerror}") from None
    finally:
        path.unlink(missing_ok=True)


class LogRead(Message):
    """The command's output, read from the service (or why it could not be)."""

    def __init__(self, text: str, error: str = "") -> None:
        super().__init__()
        self.text = text
        self.error = error


class LogScreen(Screen[None]):
    """One command's whole output, scrollable; it opens at the end, where the summary usually
    is. Moving never animates: an animated jump over 200,000 lines is only a delay.

    Its CSS is DEFAULT_CSS, not a CSS_PATH: a screen's CSS file read when the screen is first
    pushed restyles every widget of the app, every block of every open task's log included.
    """

    DEFAULT_CSS = """
    LogScreen #log-title {
        height: 2;
        padding: 0 1;
        background: $panel;
    }
    LogScreen #full-log {
        height: 1fr;
        padding: 0 1;
        overflow: auto auto;
    }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q", "close", "Back", id="log.close", tooltip="Close the log"),
        Binding(
            "p",
            "pager",
            "Pager",
            id="log.pager",
            tooltip="Read the whole output in $PAGER (less when unset)",
        ),
        Binding(
            "home,g",
            "top",
            "Top",
            id="log.top",
            tooltip="The first line",
            show=False,
            priority=True,
        ),
        Binding(
            "end,G",
            "bottom",
            "End",
            id="log.end",
            tooltip="The last line",
            show=False,
            priority=True,
        ),
        Binding(
            "pageup,b",
            "page(-1)",
            "Page up",
            id="log.page_up",
            tooltip="A screen up",
            show=False,
            priority=True,
        ),
        Binding(
            "pagedown,space",
            "page(1)",
            "Page down",
            id="log.page_down",
            tooltip="A screen down",
            show=False,
            priority=True,
        ),
    ]

    def __init__(self, task_id: str, chunk_id: str, title: Content, read: ReadLog) -> None:
        super().__init__()
        self.task_id = task_id
        self.chunk_id = chunk_id
        self.title_content = title
        self.read = read
        self.text: str | None = None
        self.pager = pager_command()
        self.log_view = OutputLog(max_lines=WHOLE_LOG, id="full-log")

    def compose(self) -> ComposeResult:
        yield Static(self.header(Content.styled("reading…", "dim")), id="log-title")
        yield self.log_view
        yield KeyHints(id="log-keys")

    def header(self, detail: Content) -> Content:
        """`Output  task T · command C  ·  DETAIL` over the command's line."""
        where = f"task {self.task_id} · command {self.chunk_id}  ·  "
        return Content.assemble(
            ("Output  ", "bold"), (where, "dim"), detail, "\n", self.title_content
        )

    def on_mount(self) -> None:
        self.log_view.focus()
        self.run_worker(self.read_log(), group="log", exclusive=True)

    async def read_log(self) -> None:
        try:
            text = await self.read()
        except EngineError as error:
            self.post_message(LogRead("", str(error)))
            return
        self.post_message(LogRead(text))

    @on(LogRead)
    def log_read(self, read: LogRead) -> None:
        title = self.query_one("#log-title", Static)
        if read.error:
            title.update(self.header(Content.styled(plain(read.error), "$error")))
            return
        self.text = read.text
        self.log_view.load(read.text)
        count = read.text.count("\n") + (not read.text.endswith("\n") and bool(read.text))
        title.update(self.header(Content.styled(f"{count:,} line{'s' * (count != 1)}", "dim")))
        self.refresh_bindings()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """`p` only once the output is read, and only with a pager to hand it to."""
        if action == "pager":
            return self.pager is not None and self.text is not None
        return True

    def action_close(self) -> None:
        self.dismiss(None)

    def action_top(self) -> None:
        self.log_view.scroll_home(animate=False)

    def action_bottom(self) -> None:
        self.log_view.scroll_end(animate=False)

    def action_page(self, pages: int) -> None:
        log = self.log_view
        log.scroll_to(y=log.scroll_y + pages * log.scrollable_content_region.height, animate=False)

    def action_pager(self) -> None:
        """Hand the terminal to the pager on an inert copy of the output, the board suspended
        (the pager runs on the event loop on purpose: nothing may draw meanwhile)."""
        if self.pager is None or self.text is None:
            return
        try:
            with self.app.suspend():
                page(self.text, self.pager)
        except SuspendNotSupported:
            self.notify(
                "This terminal cannot hand over to a pager: "
                f"`taskyard logs {self.task_id} {self.chunk_id}` prints the output",
                severity="error",
                markup=False,
            )
        except PagerError as error:
            self.notify(str(error), severity="error", markup=False)
