"""The accept dialogs: where the chosen changes go, and confirming a result flagged unsafe."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar, Literal

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label, Static

from engine.safety import Finding
from tui.present import plain

Target = Literal["branch", "worktree"]


class AcceptScreen(ModalScreen[Target | None]):
    """`enter` or `b`: to a new branch; `w`: onto the working tree; `escape`: cancel."""

    CSS_PATH = "../styles/accept.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "enter,b", "branch", "New branch", id="accept.branch", tooltip="Accept to a new branch"
        ),
        Binding(
            "w",
            "worktree",
            "Working tree",
            id="accept.worktree",
            tooltip="Apply onto the working tree (3-way; nothing changes on conflict)",
        ),
        Binding("escape", "cancel", "Cancel", id="accept.cancel", tooltip="Accept nothing"),
    ]

    def __init__(self, task_id: str, summary: str, repo: str) -> None:
        super().__init__()
        self.task_id = task_id
        self.summary = summary
        self.repo = repo

    def compose(self) -> ComposeResult:
        with Vertical(id="accept", classes="dialog"):
            yield Label(f"Accept task {self.task_id}", classes="dialog-title")
            yield Static(f"{self.summary}, into {self.repo}", id="accept-summary", markup=False)
            yield Static(
                "b / enter  a new branch (your working tree is not touched)\n"
                "w          onto your working tree, uncommitted (a 3-way merge that changes "
                "nothing on conflict)",
                id="accept-targets",
            )
            yield Static("escape cancel", classes="dialog-keys")

    def action_branch(self) -> None:
        self.dismiss("branch")

    def action_worktree(self) -> None:
        self.dismiss("worktree")

    def action_cancel(self) -> None:
        self.dismiss(None)


class ConfirmUnsafeScreen(ModalScreen[bool]):
    """The safety findings; `y` accepts anyway, `n` or `escape` does not."""

    CSS_PATH = "../styles/accept.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y", "confirm", "Accept anyway", id="unsafe.confirm", tooltip="Accept anyway"),
        Binding("n,escape", "cancel", "Cancel", id="unsafe.cancel", tooltip="Accept nothing"),
    ]

    def __init__(self, task_id: str, findings: Sequence[Finding]) -> None:
        super().__init__()
        self.task_id = task_id
        self.findings = findings

    def compose(self) -> ComposeResult:
        listed = "\n".join(plain(str(finding)) for finding in self.findings)
        with Vertical(id="unsafe", classes="dialog"):
            yield Label(f"Task {self.task_id}'s result looks unsafe", classes="dialog-title")
            yield Static(listed, id="unsafe-findings", markup=False)
            yield Static("y accept anyway  ·  n / escape cancel", classes="dialog-keys")

    def action_confirm(self) -> None:
        self.dismiss(True)

    def action_cancel(self) -> None:
        self.dismiss(False)
