"""`o` on a command block or a check: ask for the command's whole output in the log view."""

from __future__ import annotations

from textual.binding import Binding
from textual.content import Content
from textual.message import Message

OPEN_LOG = Binding(
    "o",
    "open_log",
    "Full log",
    id="open_log",
    tooltip="On a command or a check: its whole output, scrollable (p there pages it)",
)


class LogWanted(Message):
    """The whole output of command `chunk_id` is wanted; `title` says which command it is."""

    def __init__(self, chunk_id: str, title: Content) -> None:
        super().__init__()
        self.chunk_id = chunk_id
        self.title = title
