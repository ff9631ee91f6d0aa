"""The agent's final answer, its citations marked as verified or not."""

from __future__ import annotations

from typing import Any

from textual.content import Content
from textual.widgets import Static

from engine.views.citations import parse_citations
from tui.present import plain


def answer_content(message: str, citations: list[dict[str, Any]]) -> Content:
    """The answer with each citation in the colour of its verdict."""
    text = plain(message).strip()
    found = parse_citations(text)
    if len(found) != len(citations):
        return Content(text)
    parts: list[Content | tuple[str, str]] = []
    position = 0
    for citation, verdict in zip(found, citations, strict=True):
        parts.append(Content(text[position : citation.offset]))
        style = "$success" if verdict.get("valid") else "$error underline"
        parts.append((citation.raw, style))
        position = citation.offset + len(citation.raw)
    parts.append(Content(text[position:]))
    return Content.assemble(*parts)


class AnswerView(Static):
    """The final message, or the error of a task that failed."""

    def show(self, message: str, citations: list[dict[str, Any]], error: str) -> None:
        if message.strip():
            self.update(answer_content(message, citations))
        elif error:
            self.update(Content.styled(plain(error), "$error"))
        else:
            self.update(Content.styled("No answer.", "$text-muted"))
