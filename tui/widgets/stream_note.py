"""A line or paragraph in a task's stream: the prompt, an agent message, a status change."""

from __future__ import annotations

from textual.content import Content
from textual.widgets import Markdown, Static

from tui.present import plain
from tui.widgets.answer_view import answer_parser


class StreamNote(Static):
    """Text from the task, made safe for the terminal; `kind` is also its CSS class.

    The label is bold with the text under it, or beside it when `inline`.
    """

    def __init__(self, kind: str, label: str, text: str = "", inline: bool = False) -> None:
        safe = plain(text).strip()
        separator = ": " if inline else "\n"
        content = Content.assemble((plain(label), "bold"), *((separator, safe) if safe else ()))
        super().__init__(content, classes=f"note {kind}")
        self.kind = kind
        self.text = safe


class AgentNote(Markdown):
    """What the agent said, under a bold `Agent`, as Markdown that can make no links, images
    or HTML of its own (see answer_view)."""

    def __init__(self, text: str) -> None:
        self.kind = "agent"
        self.text = plain(text).strip()
        super().__init__(
            f"**Agent**\n\n{self.text}",
            classes="note agent",
            parser_factory=lambda: answer_parser({}),
            open_links=False,
        )
