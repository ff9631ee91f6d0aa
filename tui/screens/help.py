"""The `?` screen: every key of the board, with keymap overrides from the config applied."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Label, Static

HelpSection = tuple[str, Sequence[BindingType]]


def bound_keys(binding: Binding, keymap: dict[str, str]) -> list[str]:
    """The keys of a binding: the keymap's when it overrides the binding's id."""
    keys = keymap.get(binding.id or "", binding.key)
    return [key.strip() for key in keys.split(",") if key.strip()]


class HelpScreen(ModalScreen[None]):
    """Keys by section; any key in the BINDINGS below closes it."""

    CSS_PATH = "../styles/help.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,question_mark,q", "close", "Close", id="help.close"),
    ]

    def __init__(self, sections: Sequence[HelpSection], keymap: dict[str, str]) -> None:
        super().__init__()
        self.sections = sections
        self.keymap = keymap

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help", classes="dialog"):
            yield Label("Keys", classes="dialog-title")
            for title, bindings in self.sections:
                yield Static(
                    self.section_table(title, self.key_rows(bindings)), classes="help-section"
                )
            yield Static(
                "escape closes this screen  ·  ctrl+p lists every action", classes="dialog-keys"
            )

    def key_rows(self, bindings: Sequence[BindingType]) -> list[tuple[str, str, str]]:
        """(keys, action, what it does) for each binding."""
        rows = []
        for binding in bindings:
            if not isinstance(binding, Binding):
                continue
            keys = ", ".join(
                self.app.get_key_display(binding.with_key(key))
                for key in bound_keys(binding, self.keymap)
            )
            rows.append((keys, binding.description, binding.tooltip))
        return rows

    @staticmethod
    def section_table(title: str, rows: list[tuple[str, str, str]]) -> Table:
        table = Table(
            title=title,
            title_justify="left",
            title_style="bold",
            box=None,
            expand=True,
            show_header=False,
        )
        table.add_column("Key", width=8, no_wrap=True)
        table.add_column("Action", width=14, no_wrap=True)
        table.add_column("What it does", style="dim", ratio=1)
        for keys, action, description in rows:
            table.add_row(Text(keys, style="bold"), action, description)
        return table

    def action_close(self) -> None:
        self.dismiss(None)
