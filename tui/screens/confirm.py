"""A yes/no question before an action that cannot be taken back, such as cancelling a task."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label, Static


class ConfirmScreen(ModalScreen[bool]):
    """`y` confirms; `n` or `escape` does nothing. Dismisses with whether it was confirmed."""

    DEFAULT_CSS = """
    #confirm {
        width: 72;
        max-width: 100%;
    }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y", "confirm", "Yes", id="confirm.yes", tooltip="Go ahead"),
        Binding("n,escape", "refuse", "No", id="confirm.no", tooltip="Leave things as they are"),
    ]

    def __init__(self, title: str, message: str, yes: str) -> None:
        super().__init__()
        self.title_text = title
        self.message = message
        self.yes = yes

    def compose(self) -> ComposeResult:
        with Vertical(id="confirm", classes="dialog"):
            yield Label(self.title_text, classes="dialog-title", markup=False)
            yield Static(self.message, id="confirm-message", markup=False)
            yield Static(f"y {self.yes}  ·  n / escape no", classes="dialog-keys", markup=False)

    def action_confirm(self) -> None:
        self.dismiss(True)

    def action_refuse(self) -> None:
        self.dismiss(False)
