"""Static text in a box of fixed size: redrawn only when it changes, never laid out again."""

from __future__ import annotations

from textual.content import Content
from textual.widgets import Static


class FixedStatic(Static):
    """A Static whose size its CSS fixes (a header, a footer line).

    `show` redraws it only when the text or its styles changed, and with no layout: the box
    keeps its size, and a layout is of the whole screen, which a widget in a hidden tab would
    otherwise cost at every update. (Content's own == compares the text only.)
    """

    def show_content(self, content: Content) -> None:
        shown = self.content
        if isinstance(shown, Content) and (shown.plain, shown.spans) == (
            content.plain,
            content.spans,
        ):
            return
        self.update(content, layout=False)
