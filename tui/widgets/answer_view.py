"""The agent's final answer as Markdown, each citation a link marked as verified or not.

The answer is untrusted: it cannot make links, images or HTML of its own (they show as the text
it wrote), so every link in the view is a citation taskyard checked, and its ✓ or ✗ is ours.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from markdown_it import MarkdownIt
from markdown_it.rules_core import StateCore
from markdown_it.token import Token
from textual import on
from textual.message import Message
from textual.widgets import Markdown

from engine.views import parse_citations
from tui.present import plain

CITATION_LINK = "cite:"
"""The scheme of the links citations become; following one shows the cited lines."""
UNTRUSTED_RULES = ["link", "image", "autolink", "html_inline", "html_block", "reference"]
"""Markdown rules whose output could pass for taskyard's own: none apply to an answer."""

Verdicts = Mapping[str, tuple[int, bool]]
"""For each citation's text: its index among the task's citations and whether it was verified."""


def citation_verdicts(message: str, citations: list[dict[str, Any]]) -> dict[str, tuple[int, bool]]:
    """The verdict of each citation in the answer; none when they do not match the record's."""
    found = parse_citations(plain(message))
    if len(found) != len(citations):
        return {}
    verdicts: dict[str, tuple[int, bool]] = {}
    for index, (citation, verdict) in enumerate(zip(found, citations, strict=True)):
        verdicts.setdefault(citation.raw, (index, bool(verdict.get("valid"))))
    return verdicts


def answer_parser(verdicts: Verdicts) -> MarkdownIt:
    """CommonMark with tables and strikethrough, without the untrusted rules; each known
    citation in the text (not in code) becomes a `cite:N` link ending in its verdict."""
    parser = MarkdownIt("commonmark").enable(["table", "strikethrough"])
    parser.disable(UNTRUSTED_RULES)
    if verdicts:
        pattern = re.compile("|".join(re.escape(raw) for raw in sorted(verdicts, key=len)[::-1]))

        def link_citations(state: StateCore) -> None:
            for block in state.tokens:
                if block.type == "inline" and block.children:
                    block.children = [
                        piece
                        for token in block.children
                        for piece in citation_tokens(token, pattern, verdicts)
                    ]

        parser.core.ruler.after("inline", "citations", link_citations)
    return parser


def citation_tokens(token: Token, pattern: re.Pattern[str], verdicts: Verdicts) -> list[Token]:
    """A text token split into text and citation links; any other token as it is."""
    if token.type != "text":
        return [token]
    pieces: list[Token] = []
    position = 0
    for found in pattern.finditer(token.content):
        index, valid = verdicts[found.group()]
        pieces.append(Token("text", "", 0, content=token.content[position : found.start()]))
        pieces.append(Token("link_open", "a", 1, attrs={"href": f"{CITATION_LINK}{index}"}))
        pieces.append(Token("text", "", 0, content=f"{found.group()} {'✓' if valid else '✗'}"))
        pieces.append(Token("link_close", "a", -1))
        position = found.end()
    pieces.append(Token("text", "", 0, content=token.content[position:]))
    return pieces


def code_block(text: str) -> str:
    """`text` as a fenced block, whatever backticks it holds."""
    longest = max((len(run) for run in re.findall("`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}text\n{text}\n{fence}"


class AnswerView(Markdown):
    """The final message, or the error of a task that failed (as text, never as Markdown)."""

    class CitationFollowed(Message):
        """A citation link in the answer was followed: show its lines."""

        def __init__(self, index: int) -> None:
            super().__init__()
            self.index = index

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(open_links=False, parser_factory=self.parser, **kwargs)
        self.verdicts: Verdicts = {}

    def parser(self) -> MarkdownIt:
        return answer_parser(self.verdicts)

    def show(self, message: str, citations: list[dict[str, Any]], error: str) -> None:
        answered = bool(message.strip())
        self.set_class(not answered and bool(error), "-error")
        self.verdicts = citation_verdicts(message, citations) if answered else {}
        if answered:
            self.update(plain(message).strip())
        else:
            self.update(code_block(plain(error)) if error else "No answer.")

    @on(Markdown.LinkClicked)
    def link_clicked(self, clicked: Markdown.LinkClicked) -> None:
        clicked.stop()
        number = clicked.href.removeprefix(CITATION_LINK)
        if clicked.href.startswith(CITATION_LINK) and number.isdigit():
            self.post_message(self.CitationFollowed(int(number)))
