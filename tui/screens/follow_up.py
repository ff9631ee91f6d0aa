"""The follow-up prompt: more work for a finished task, in its sandbox and on its branch."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label, Static, TextArea


class FollowUpScreen(ModalScreen[str | None]):
    """A modal prompt; `ctrl+s` sends it, `escape` cancels."""

    CSS_PATH = "../styles/follow_up.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "ctrl+s",
            "send",
            "Send",
            id="follow_up.send",
            tooltip="Start a new turn with this prompt",
            priority=True,
        ),
        Binding(
            "escape", "cancel", "Cancel", id="follow_up.cancel", tooltip="Close without sending"
        ),
    ]

    def __init__(self, task_id: str, title: str) -> None:
        super().__init__()
        self.task_id = task_id
        self.task_title = title

    def compose(self) -> ComposeResult:
        with Vertical(id="follow-up", classes="dialog"):
            yield Label(f"Follow-up on task {self.task_id}", classes="dialog-title")
            yield Static(self.task_title, id="follow-up-task", markup=False)
            yield TextArea(id="follow-up-prompt", soft_wrap=True, tab_behavior="focus")
            yield Static("", id="follow-up-error", classes="dialog-error")
            yield Static("ctrl+s send  ·  escape cancel", classes="dialog-keys")

    def on_mount(self) -> None:
        """Focus the prompt now, not after the keys already queued for this screen."""
        self.set_focus(self.query_one(TextArea))

    def action_send(self) -> None:
        prompt = self.query_one(TextArea).text
        if not prompt.strip():
            self.query_one("#follow-up-error", Static).update(
                "Write what the agent should do next."
            )
            return
        self.dismiss(prompt)

    def action_cancel(self) -> None:
        self.dismiss(None)
