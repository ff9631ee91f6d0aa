"""FixedStatic: the board's headers and footer redraw when their text or styles change, with
no layout of the screen."""

from __future__ import annotations

from textual.app import App, ComposeResult
from textual.content import Content

from tui.widgets.fixed_static import FixedStatic


class OneLine(App[None]):
    CSS = "FixedStatic { height: 1; }"

    def compose(self) -> ComposeResult:
        yield FixedStatic()


async def test_a_style_change_alone_redraws_and_nothing_is_laid_out_again() -> None:
    app = OneLine()
    async with app.run_test(size=(40, 5)) as pilot:
        line = app.query_one(FixedStatic)
        line.show_content(Content.styled("3 running", "bold"))
        await pilot.pause()
        line.show_content(Content.styled("3 running", "dim"))
        assert line.content.spans[0].style == "dim"  # type: ignore[union-attr]
        assert not line._layout_required
        shown = line.content
        line.show_content(Content.styled("3 running", "dim"))
        assert line.content is shown
