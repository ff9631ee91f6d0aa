"""A task's diff, syntax-highlighted with the `diff` lexer."""

from __future__ import annotations

from rich.syntax import Syntax
from textual.content import Content
from textual.widgets import Static

from tui.present import reveal


class DiffView(Static):
    """The whole unified diff, wrapped to the width of the view."""

    def show(self, diff: str) -> None:
        if not diff.strip():
            self.update(Content.styled("No diff.", "$text-muted"))
            return
        theme = "ansi_dark" if self.app.current_theme.dark else "ansi_light"
        self.update(
            Syntax(
                reveal(diff),
                "diff",
                theme=theme,
                word_wrap=True,
                background_color=self.app.theme_variables["background"],
            )
        )
