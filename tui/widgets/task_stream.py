"""A task's loop as it happens: prompts, agent messages, commands with output, status changes.

Once it overflows it is anchored to the bottom: it follows the tail until the person scrolls
up, and again once they scroll back down.
"""

from __future__ import annotations

from collections.abc import Callable

from textual.containers import VerticalScroll
from textual.geometry import Size
from textual.widget import Widget

from engine.events import (
    AgentMessage,
    CommandFinished,
    CommandStarted,
    Event,
    FollowUpStarted,
    ModelRetry,
    PatchApplied,
    TaskFinished,
    TaskStatusChanged,
    ToolCallRejected,
)
from engine.store import CommandRecord, TaskRecord
from tui.bridge import OutputPiece
from tui.widgets.command_block import CommandBlock
from tui.widgets.stream_note import StreamNote

ReadOutput = Callable[[str], str]
ENDINGS = ("ready", "failed", "cancelled")
"""Statuses announced by the task.finished note rather than a status line."""


def finished_note(status: str, error: str) -> StreamNote:
    kind = "success" if status == "ready" else "failure"
    return StreamNote(kind, f"Task {status}", error)


class TaskStream(VerticalScroll):
    """Blocks for one task; events and output batches add to it, history loads it at once."""

    def __init__(self, task_id: str, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.task_id = task_id
        self.blocks: dict[str, CommandBlock] = {}

    def watch_virtual_size(self, size: Size) -> None:
        height = self.container_size.height
        if not self.is_anchored and 0 < height < size.height:
            self.anchor()

    def load_history(
        self, record: TaskRecord, commands: list[CommandRecord], read_output: ReadOutput
    ) -> None:
        """Show what is recorded: the prompt, commands with output, and how it ended."""
        widgets: list[Widget] = [StreamNote("prompt", "Prompt", record.prompt)]
        for index, command in enumerate(commands):
            last = index == len(commands) - 1
            block = CommandBlock.from_record(
                command, read_output(command.chunk_id), collapsed=not last
            )
            self.blocks[command.chunk_id] = block
            widgets.append(block)
        if record.final_message:
            widgets.append(StreamNote("agent", "Agent", record.final_message))
        if record.status in ENDINGS:
            widgets.append(finished_note(record.status, record.error))
        self.mount_all(widgets)

    def apply_event(self, event: Event) -> None:
        widget = self.widget_for(event)
        if widget is not None:
            self.mount(widget)
        if isinstance(event, CommandFinished) and event.chunk_id in self.blocks:
            block = self.blocks[event.chunk_id]
            block.set_finished(event.exit_code, event.timed_out, event.duration, event.output_lines)

    def widget_for(self, event: Event) -> Widget | None:
        """The block an event adds to the stream, if any."""
        if isinstance(event, CommandStarted):
            self.collapse_finished()
            block = CommandBlock(event.chunk_id, event.command, event.phase, collapsed=False)
            self.blocks[event.chunk_id] = block
            return block
        if isinstance(event, AgentMessage):
            return StreamNote("agent", "Agent", event.text)
        if isinstance(event, FollowUpStarted):
            return StreamNote("prompt", "Follow-up", event.prompt)
        if isinstance(event, TaskStatusChanged) and event.status not in ENDINGS:
            return StreamNote("status", f"· {event.status}", event.detail, inline=True)
        if isinstance(event, PatchApplied):
            label = "Patch applied" if event.ok else "Patch failed"
            return StreamNote("status" if event.ok else "failure", label, event.summary)
        if isinstance(event, ToolCallRejected):
            return StreamNote("failure", f"Tool call rejected ({event.tool})", event.error)
        if isinstance(event, ModelRetry):
            return StreamNote("status", f"Model retry {event.attempt}", event.reason, inline=True)
        if isinstance(event, TaskFinished):
            return finished_note(event.status, event.error)
        return None

    def collapse_finished(self) -> None:
        """Fold finished commands that succeeded, unless the person opened or closed them."""
        for block in self.blocks.values():
            if not (block.pinned or block.has_class("-running") or block.has_class("-failed")):
                block.collapsed = True

    def apply_output(self, pieces: list[OutputPiece]) -> None:
        for piece in pieces:
            block = self.blocks.get(piece.chunk_id)
            if block is not None:
                block.append_output(piece.offset, piece.text)
