"""One command of a task: its line, state, exit code and duration, over its collapsible output."""

from __future__ import annotations

from typing import ClassVar

from textual.binding import BindingType
from textual.content import Content
from textual.widgets import Collapsible

from engine.views import CommandRecord
from tui.commands.common import command_line
from tui.widgets.log_request import OPEN_LOG, LogWanted
from tui.widgets.output_log import OutputLog

COMMAND_WIDTH = 64
MAX_OUTPUT_LINES = 5_000


def command_state(exit_code: int | None, timed_out: bool, finished: bool) -> Content:
    """`running…`, `✓ exit 0`, `✗ exit 1`, `✗ timed out`, or `✗ stopped`."""
    if not finished:
        return Content.styled("running…", "bold")
    if timed_out:
        return Content.styled("✗ timed out", "$error")
    if exit_code is None:
        return Content.styled("✗ stopped", "$error")
    if exit_code == 0:
        return Content.styled("✓ exit 0", "$success")
    return Content.styled(f"✗ exit {exit_code}", "$error")


class CommandBlock(Collapsible):
    """A command and its output, collapsible; live output is appended by character offset.

    History is loaded first; live output that overlaps what was loaded is skipped, so a tab
    opened while a command runs shows each character once. `o` asks for its whole output
    (the block keeps the last MAX_OUTPUT_LINES lines).
    """

    BINDINGS: ClassVar[list[BindingType]] = [OPEN_LOG]

    def __init__(self, chunk_id: str, command: list[str], phase: str, collapsed: bool) -> None:
        self.chunk_id = chunk_id
        self.command = command
        self.phase = phase
        self.output = OutputLog(max_lines=MAX_OUTPUT_LINES, classes="command-output")
        self.chars_shown = 0
        self.pinned = False
        super().__init__(self.output, title="", collapsed=collapsed, classes="command -running")
        self.show_state(command_state(None, False, finished=False), "")

    @classmethod
    def from_record(cls, record: CommandRecord, output: str, collapsed: bool) -> CommandBlock:
        """A block for a stored command with its output so far."""
        block = cls(record.chunk_id, record.command, record.phase, collapsed)
        block.chars_shown = len(output)
        if record.finished is None:
            block.output.append(output)
            return block
        block.output.load(output)
        duration = record.finished - record.started
        block.set_finished(record.exit_code, record.timed_out, duration, record.output_lines)
        return block

    def show_state(self, state: Content, detail: str) -> None:
        parts: list[Content | str | tuple[str, str]] = []
        if self.phase != "agent":
            parts.append((f"{self.phase} ", "dim"))
        parts += [("$ ", "dim"), command_line(self.command, COMMAND_WIDTH), "  ", state]
        if detail:
            parts.append((f"  {detail}", "dim"))
        self.title = Content.assemble(*parts)  # type: ignore[assignment]

    def action_open_log(self) -> None:
        title = self.title
        shown = title if isinstance(title, Content) else Content(title)
        self.post_message(LogWanted(self.chunk_id, shown))

    def on_collapsible_title_toggle(self) -> None:
        """The person folded or unfolded it: leave it as they chose."""
        self.pinned = True

    def on_collapsible_expanded(self) -> None:
        """Unfolded output opens at its end, where the summary usually is."""
        self.output.call_after_refresh(self.output.scroll_end, animate=False)

    def append_output(self, offset: int, text: str) -> None:
        """Output starting at character `offset` of this command's output."""
        end = offset + len(text)
        if end <= self.chars_shown:
            return
        self.output.append(text[max(0, self.chars_shown - offset) :])
        self.chars_shown = end

    def set_finished(
        self, exit_code: int | None, timed_out: bool, duration: float, lines: int
    ) -> None:
        self.output.finish()
        self.remove_class("-running")
        self.set_class(timed_out or exit_code != 0, "-failed")
        detail = f"{duration:.1f}s · {lines} line{'' if lines == 1 else 's'}"
        self.show_state(command_state(exit_code, timed_out, finished=True), detail)
