"""The board's backstop: no control character in any text it draws reaches the terminal."""

from __future__ import annotations

import re

from rich.segment import Segment
from textual.color import Color
from textual.filter import LineFilter

CONTROL_CHARACTERS = re.compile("[\x00-\x1f\x7f-\x9f]")
"""C0, DEL and C1: none is text in a drawn line, and ESC, CSI or OSC would be obeyed."""


class ControlCharacterFilter(LineFilter):
    """Removes control characters from the text and links of every line a widget renders.

    Textual writes its own escape sequences (colours, cursor moves, hyperlink brackets) from
    styles after line filters run, so only content is touched. A control character takes no
    cell, so removing one never moves what follows.
    """

    def apply(self, segments: list[Segment], background: Color) -> list[Segment]:
        return [segment if is_inert(segment) else inert_copy(segment) for segment in segments]


def is_inert(segment: Segment) -> bool:
    """Whether the segment is Textual's own control or holds no control character."""
    text, style, control = segment
    if control is not None:
        return True
    link = (style.link if style is not None else None) or ""
    return CONTROL_CHARACTERS.search(text) is None and CONTROL_CHARACTERS.search(link) is None


def inert_copy(segment: Segment) -> Segment:
    """The segment with control characters removed from its text and its link."""
    text, style, _ = segment
    if style is not None and style.link:
        style = style.update_link(CONTROL_CHARACTERS.sub("", style.link))
    return Segment(CONTROL_CHARACTERS.sub("", text), style)
