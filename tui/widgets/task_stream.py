"""A task's loop as it happens: prompts, agent messages, commands with output, status changes.

Once it overflows it is anchored to the bottom: it follows the tail until the person scrolls
up, and again once they scroll back down. A stream not shown (its tab or its Log pane hidden)
mounts nothing: what arrives waits, and is mounted once the stream shows, newest first, a
slice per frame.
"""

from __future__ import annotations

from collections.abc import Mapping

from textual.containers import VerticalScroll
from textual.geometry import Size
from textual.widget import Widget

from engine.views import TERMINAL, CommandRecord, TaskRecord, TaskStatus
from engine.views.events import (
    AgentMessage,
    CommandFinished,
    CommandStarted,
    Event,
    FollowUpStarted,
    ModelRetry,
    PatchApplied,
    PullRequestChanged,
    TaskFinished,
    TaskResumed,
    TaskStatusChanged,
    ToolCallRejected,
)
from tui.bridge import OutputPiece
from tui.widgets.command_block import CommandBlock
from tui.widgets.stream_note import AgentNote, StreamNote

MOUNT_SLICE = 12
"""Notes and blocks mounted per frame while a stream shows what waited."""


def finished_note(status: TaskStatus, error: str) -> StreamNote:
    kind = "success" if status == TaskStatus.READY else "failure"
    return StreamNote(kind, f"Task {status}", error)


def note_for(event: Event) -> StreamNote | AgentNote | None:
    """The note an event adds to the stream, if any (commands are blocks, not notes)."""
    if isinstance(event, AgentMessage):
        return AgentNote(event.text)
    if isinstance(event, FollowUpStarted):
        return StreamNote("prompt", "Follow-up", event.prompt)
    if isinstance(event, TaskResumed):
        return StreamNote("status", "Resumed", event.reason, inline=True)
    if isinstance(event, TaskStatusChanged) and event.status not in TERMINAL:
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
    if isinstance(event, PullRequestChanged):
        return pull_request_note(event)
    return None


def newest_runs(indices: list[int]) -> list[list[int]]:
    """Indices given newest first, as runs of consecutive ones in order, the newest run first."""
    runs: list[list[int]] = []
    for index in indices:
        if runs and runs[-1][0] == index + 1:
            runs[-1].insert(0, index)
        else:
            runs.append([index])
    return runs


def pull_request_note(event: PullRequestChanged) -> StreamNote:
    if event.action == "failed":
        return StreamNote("failure", "Pull request", event.detail)
    if event.action == "pushed":
        return StreamNote("status", "Branch pushed", f"{event.url}\n{event.detail}".strip())
    return StreamNote("status", f"Pull request #{event.number} {event.action}", event.url)


class TaskStream(VerticalScroll):
    """Blocks for one task; events and output batches add to it, history loads it at once.

    `items` holds every note and block in order; one is mounted once the stream has been
    shown (widgets in a hidden tab still cost a style pass and a layout of the screen each),
    the newest MOUNT_SLICE per frame, so a tab with hundreds of commands opens at once and
    keys are served between slices.
    """

    def __init__(self, task_id: str, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.task_id = task_id
        self.blocks: dict[str, CommandBlock] = {}
        self.items: list[Widget] = []
        self._shown = False
        self._slice_due = False

    @property
    def unmounted(self) -> int:
        """How many notes and blocks are not mounted yet (waiting, or mounting)."""
        return sum(not item.is_mounted for item in self.items)

    def watch_has_focus(self, _has_focus: bool) -> None:
        """Restyle the stream alone when focus comes or goes. Textual restyles every
        descendant too, which here is every note and block of the loop, on each tab switch;
        no rule styles them by the stream's focus."""
        self.app.stylesheet.update_nodes([self], animate=True)

    def on_show(self) -> None:
        self._shown = True
        self._schedule_slice()

    def on_hide(self) -> None:
        self._shown = False

    def _add(self, widgets: list[Widget]) -> None:
        """Add notes and blocks at the end: mounted now if the stream shows, else later."""
        self.items += widgets
        if not self._shown and self.is_mounted and self.is_on_screen:
            self._shown = True
        if self._shown:
            self._schedule_slice()

    def _schedule_slice(self, after_refresh: bool = False) -> None:
        if self._slice_due:
            return
        self._slice_due = True
        if after_refresh:
            self.call_after_refresh(self._mount_slice)
        else:
            self.call_later(self._mount_slice)

    async def _mount_slice(self) -> None:
        """Mount the newest MOUNT_SLICE widgets still waiting, each run before the widget
        that follows it, in one batch: the screen is laid out once, when the whole slice
        has mounted, instead of at each step of its widgets' composition. The next slice
        comes after the next frame."""
        self._slice_due = False
        if not self._shown or not self.is_mounted or not self.is_attached:
            return
        waiting: list[int] = []
        for index in range(len(self.items) - 1, -1, -1):
            if self.items[index].parent is None:
                waiting.append(index)
                if len(waiting) == MOUNT_SLICE:
                    break
        if not waiting:
            return
        async with self.batch():
            for run in newest_runs(waiting):
                after = run[-1] + 1
                widgets = [self.items[index] for index in run]
                before = self.items[after] if after < len(self.items) else None
                await self.mount_all(widgets, before=before)
        if not self.is_attached:
            return
        self.screen.check_idle()
        if len(waiting) == MOUNT_SLICE:
            self._schedule_slice(after_refresh=True)

    def watch_virtual_size(self, size: Size) -> None:
        height = self.container_size.height
        if not self.is_anchored and 0 < height < size.height:
            self.anchor()

    def load_history(
        self,
        record: TaskRecord,
        events: list[Event],
        commands: list[CommandRecord],
        outputs: Mapping[str, str],
    ) -> None:
        """Replay what is recorded, in order: the prompt, then every event, each command with
        its stored output (folded, except the last)."""
        stored = {command.chunk_id: command for command in commands}
        last = commands[-1].chunk_id if commands else None
        widgets: list[Widget] = [StreamNote("prompt", "Prompt", record.prompt)]
        for event in events:
            if isinstance(event, CommandStarted) and event.chunk_id in stored:
                command, folded = stored[event.chunk_id], event.chunk_id != last
                block = CommandBlock.from_record(command, outputs.get(command.chunk_id, ""), folded)
                self.blocks[command.chunk_id] = block
                widgets.append(block)
            elif (note := note_for(event)) is not None:
                widgets.append(note)
        self._add(widgets)

    def apply_event(self, event: Event) -> None:
        """A live event: a new command block, a note, or a command's end."""
        if isinstance(event, CommandStarted):
            self.collapse_finished()
            block = CommandBlock(event.chunk_id, event.command, event.phase, collapsed=False)
            self.blocks[event.chunk_id] = block
            self._add([block])
        elif isinstance(event, CommandFinished) and event.chunk_id in self.blocks:
            block = self.blocks[event.chunk_id]
            block.set_finished(event.exit_code, event.timed_out, event.duration, event.output_lines)
        elif (note := note_for(event)) is not None:
            self._add([note])

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
