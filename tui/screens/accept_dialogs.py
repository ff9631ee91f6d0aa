"""The accept dialogs: where the chosen changes go, another branch name when the branch cannot
move, and confirming a result flagged unsafe."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar, Literal

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Static

from engine.views import BranchTaken, Finding
from tui.present import plain

Target = Literal["branch", "squash", "worktree"]
Confirmation = Literal["anyway", "squash"]


class AcceptScreen(ModalScreen[Target | None]):
    """`enter` or `b`: to a new branch; `s`: to a new branch as one commit; `w`: onto the
    working tree; `escape`: cancel."""

    CSS_PATH = "../styles/accept.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "enter,b",
            "branch",
            "New branch",
            id="accept.branch",
            tooltip="Accept to a branch, new or moved forward",
        ),
        Binding(
            "s",
            "squash",
            "One commit",
            id="accept.squash",
            tooltip="Accept to a new branch as one commit with the net change (squash)",
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
                "b / enter  a branch, new or moved forward; your working tree is untouched\n"
                "s          a new branch with one commit: the net change, squashed\n"
                "w          onto your working tree, uncommitted (3-way, all or nothing)",
                id="accept-targets",
            )
            yield Static("escape cancel", classes="dialog-keys")

    def action_branch(self) -> None:
        self.dismiss("branch")

    def action_squash(self) -> None:
        self.dismiss("squash")

    def action_worktree(self) -> None:
        self.dismiss("worktree")

    def action_cancel(self) -> None:
        self.dismiss(None)


class BranchNameScreen(ModalScreen[str | None]):
    """Why the branch was not moved, and an Input for another name (a free one to start
    with, or the one just refused, with why); `enter` accepts to it, `escape` accepts
    nothing."""

    CSS_PATH = "../styles/accept.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="branch_name.cancel", tooltip="Accept nothing"),
    ]

    def __init__(
        self, task_id: str, taken: BranchTaken, name: str | None = None, problem: str = ""
    ) -> None:
        super().__init__()
        self.task_id = task_id
        self.taken = taken
        self.branch_name = taken.suggestion if name is None else name
        self.problem = problem

    def compose(self) -> ComposeResult:
        taken = self.taken
        with Vertical(id="branch-name", classes="dialog"):
            yield Label(f"Accept task {self.task_id} to another branch", classes="dialog-title")
            yield Static(
                plain(f"Branch {taken.branch} {taken.reason}, so it was not moved."),
                id="branch-name-reason",
                markup=False,
            )
            yield Input(self.branch_name, placeholder="branch name", id="branch-name-input")
            error = Static(
                plain(self.problem), id="branch-name-error", classes="dialog-error", markup=False
            )
            error.display = bool(self.problem)
            yield error
            yield Static("enter accept to this branch  ·  escape cancel", classes="dialog-keys")

    def on_mount(self) -> None:
        """Focus the name now, not after the keys already queued for this screen."""
        self.set_focus(self.query_one(Input))

    @on(Input.Submitted)
    def submitted(self, submitted: Input.Submitted) -> None:
        name = submitted.value.strip()
        if not name:
            error = self.query_one("#branch-name-error", Static)
            error.update("Name the branch to accept to.")
            error.display = True
            return
        self.dismiss(name)

    def action_cancel(self) -> None:
        self.dismiss(None)


class ConfirmUnsafeScreen(ModalScreen[Confirmation | None]):
    """The safety findings; `y` accepts anyway, `s` (when a finding is in one of the task's
    commits) accepts the net change as one commit instead, `n` or `escape` accepts nothing."""

    CSS_PATH = "../styles/accept.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y", "confirm", "Accept anyway", id="unsafe.confirm", tooltip="Accept anyway"),
        Binding(
            "s",
            "squash",
            "One commit",
            id="unsafe.squash",
            tooltip="Leave the task's commits behind: accept the net change as one commit",
        ),
        Binding("n,escape", "cancel", "Cancel", id="unsafe.cancel", tooltip="Accept nothing"),
    ]

    def __init__(self, task_id: str, findings: Sequence[Finding]) -> None:
        super().__init__()
        self.task_id = task_id
        self.findings = findings
        self.in_history = any(finding.commit for finding in findings)
        """Some finding is in a commit that squashing leaves behind."""

    def compose(self) -> ComposeResult:
        listed = "\n".join(plain(str(finding)) for finding in self.findings)
        squash = "s one commit with the net change  ·  " if self.in_history else ""
        with Vertical(id="unsafe", classes="dialog"):
            yield Label(f"Task {self.task_id}'s result looks unsafe", classes="dialog-title")
            yield Static(listed, id="unsafe-findings", markup=False)
            yield Static(f"y accept anyway  ·  {squash}n / escape cancel", classes="dialog-keys")

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return self.in_history if action == "squash" else True

    def action_confirm(self) -> None:
        self.dismiss("anyway")

    def action_squash(self) -> None:
        self.dismiss("squash")

    def action_cancel(self) -> None:
        self.dismiss(None)
