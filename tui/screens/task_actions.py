"""What the action keys do to the current task: accept, send back, follow up, pull request,
cancel, retry, archive, quit."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from textual import on
from textual.message import Message
from textual.screen import Screen

from engine.errors import EngineError
from engine.service.client import ServiceClient
from engine.views import (
    ACTIVE,
    REVIEWABLE,
    Accepted,
    AcceptRequest,
    BranchTaken,
    Choice,
    Delivery,
    Finding,
    TaskRecord,
    UnsafeResult,
)
from tui.commands.common import plural
from tui.present import plain
from tui.screens.accept_dialogs import (
    AcceptScreen,
    BranchNameScreen,
    Confirmation,
    ConfirmUnsafeScreen,
    Target,
)
from tui.screens.confirm import ConfirmScreen
from tui.screens.follow_up import FollowUpScreen
from tui.widgets.hunk_chooser import HunkChooser
from tui.widgets.task_row import task_title

Result = TypeVar("Result")


def pull_request_applies(record: TaskRecord) -> bool:
    """Whether the task has a result that can become a pull request."""
    return record.mode == "code" and record.status in REVIEWABLE


def pull_request_notice(delivery: Delivery) -> str:
    """What became of the pull request, for a notification."""
    if delivery.action == "pushed" and not delivery.number:
        notice = f"Pushed {delivery.branch}; {delivery.note}. Open the request at {delivery.url}"
    elif delivery.action == "pushed":
        notice = f"Pushed {delivery.branch}; #{delivery.number} not updated: {delivery.note}"
    else:
        notice = f"Pull request #{delivery.number} {delivery.action}: {delivery.url}"
    return plain(notice)


class AcceptRefused(Message):
    """Accepting was refused as unsafe; the person may confirm it."""

    def __init__(
        self,
        task_id: str,
        request: AcceptRequest,
        findings: Sequence[Finding],
        edited: Path | None = None,
    ) -> None:
        super().__init__()
        self.task_id = task_id
        self.request = request
        self.findings = findings
        self.edited = edited


class BranchRefused(Message):
    """The branch asked for cannot move to the result; the person may name another."""

    def __init__(
        self,
        task_id: str,
        request: AcceptRequest,
        taken: BranchTaken,
        edited: Path | None,
        problem: str = "",
    ) -> None:
        super().__init__()
        self.task_id = task_id
        self.request = request
        self.taken = taken
        self.edited = edited
        self.problem = problem
        """Why the name given instead was refused too (e.g. not a valid branch name)."""


def kept_notice(edited: Path) -> str:
    return f"Your edited patch is kept in {edited}"


def accepted_notice(task_id: str, accepted: Accepted) -> str:
    what = "the whole result" if accepted.whole else plural(len(accepted.files), "file")
    what += " as one commit" if accepted.squashed else ""
    if accepted.target == "worktree":
        return (
            f"Task {task_id} accepted: {what} applied onto the working tree of {accepted.repo}, "
            "uncommitted"
        )
    where = f"branch {accepted.branch} in {accepted.repo}"
    if accepted.moved:
        return f"Task {task_id} accepted: {where} moved forward to {accepted.sha[:12]} ({what})"
    if accepted.previous:
        return f"Task {task_id}: {where} is already at {accepted.sha[:12]}, nothing new"
    return f"Task {task_id} accepted: {where} ({what})"


def detach_notice(running: int) -> str | None:
    """What quitting leaves behind, said as the board closes; None when nothing runs."""
    if not running:
        return None
    keep = "keeps" if running == 1 else "keep"
    return (
        f"taskyard: {plural(running, 'task')} {keep} running in the taskyard service: "
        "`taskyard tasks` lists them, `taskyard` reopens the board"
    )


class TaskActions(Screen[None]):
    """Action handlers of the board; service calls that take long run in workers."""

    if TYPE_CHECKING:

        @property
        def client(self) -> ServiceClient: ...

        def current_task_id(self) -> str | None: ...

        def known_record(self, task_id: str) -> TaskRecord | None: ...

        def active_tasks(self) -> int: ...

        def active_chooser(self) -> HunkChooser | None: ...

        def task_archived(self, record: TaskRecord) -> None: ...

        @property
        def archived_here(self) -> list[str]: ...

    def current_task(self) -> TaskRecord | None:
        """The current task's latest record; a notice when there is none."""
        task_id = self.current_task_id()
        record = self.known_record(task_id) if task_id is not None else None
        if record is None:
            self.notify("No task selected: press n to start one", severity="warning")
        return record

    def run_engine_call(
        self,
        call: Awaitable[Result],
        describe: Callable[[Result], str] | None = None,
    ) -> None:
        """Await a service call in a worker; notify its error or its description when done.

        The worker touches no widget: what the call changed reaches the board as events.
        """

        async def work() -> None:
            try:
                result = await call
            except EngineError as error:
                self.notify(str(error), severity="error", markup=False)
                return
            if describe is not None:
                self.notify(describe(result), markup=False)

        self.run_worker(work(), group="engine-calls")

    def chosen_changes(self) -> tuple[TaskRecord, Choice, str] | None:
        """The current task, the changes chosen in its result (the whole result on the board)
        and their summary; a notice when there is no task or nothing is chosen."""
        task = self.current_task()
        if task is None:
            return None
        chooser = self.active_chooser()
        if chooser is None:
            return task, Choice(), "the whole result"
        choice = chooser.choice()
        if choice is None:
            self.notify(
                "Nothing is chosen: press space on a change to choose it", severity="warning"
            )
            return None
        return task, choice, chooser.summary()

    async def action_accept(self) -> None:
        """Ask where the chosen changes (the whole result on the board) go, then accept."""
        chosen = self.chosen_changes()
        if chosen is None:
            return
        task, choice, summary = chosen
        await self.ask_target(task, summary, AcceptRequest(choice))

    async def ask_target(
        self, task: TaskRecord, summary: str, request: AcceptRequest, edited: Path | None = None
    ) -> None:
        """Ask where `request`'s changes go (a new branch or the working tree), then accept."""

        def accept_to(target: Target | None) -> None:
            if target is not None:
                onto = replace(
                    request, onto_worktree=target == "worktree", squash=target == "squash"
                )
                self.start_accept(task.id, onto, edited)
            elif edited is not None:
                self.notify(f"Nothing accepted. {kept_notice(edited)}", markup=False)

        await self.app.push_screen(AcceptScreen(task.id, summary, task.repo), accept_to)

    def start_accept(
        self,
        task_id: str,
        request: AcceptRequest,
        edited: Path | None = None,
        renaming: BranchTaken | None = None,
    ) -> None:
        """Accept in a worker; a result flagged unsafe comes back as AcceptRefused, a branch
        that cannot move as BranchRefused (and so does another failure while `renaming`, so
        the person can fix the name). The file of an `edited` patch is removed once accepted
        and kept, said where, otherwise."""

        async def work() -> None:
            try:
                accepted = await self.client.accept(task_id, request)
            except UnsafeResult as refused:
                self.post_message(AcceptRefused(task_id, request, refused.findings, edited))
                return
            except BranchTaken as taken:
                self.post_message(BranchRefused(task_id, request, taken, edited))
                return
            except EngineError as error:
                if renaming is not None:
                    refused = BranchRefused(task_id, request, renaming, edited, str(error))
                    self.post_message(refused)
                    return
                kept = f"\n{kept_notice(edited)}" if edited is not None else ""
                message = plain(str(error)) + kept
                self.notify(message, severity="error", markup=False)
                return
            if edited is not None:
                edited.unlink(missing_ok=True)
            self.notify(accepted_notice(task_id, accepted), markup=False)

        self.run_worker(work(), group="engine-calls")

    @on(AcceptRefused)
    def accept_refused(self, refused: AcceptRefused) -> None:
        """Ask whether to accept a result flagged unsafe anyway."""

        def confirmed(answer: Confirmation | None) -> None:
            if answer is not None:
                squash = refused.request.squash or answer == "squash"
                request = replace(refused.request, allow_unsafe=answer == "anyway", squash=squash)
                self.start_accept(refused.task_id, request, refused.edited)
            elif refused.edited is not None:
                self.notify(f"Nothing accepted. {kept_notice(refused.edited)}", markup=False)

        self.app.push_screen(ConfirmUnsafeScreen(refused.task_id, refused.findings), confirmed)

    @on(BranchRefused)
    def branch_refused(self, refused: BranchRefused) -> None:
        """Ask for another branch to accept to, then accept there."""

        def renamed(branch: str | None) -> None:
            if branch is not None:
                request = replace(refused.request, branch=branch)
                self.start_accept(refused.task_id, request, refused.edited, refused.taken)
            elif refused.edited is not None:
                self.notify(f"Nothing accepted. {kept_notice(refused.edited)}", markup=False)

        name = refused.request.branch if refused.problem else None
        question = BranchNameScreen(refused.task_id, refused.taken, name, refused.problem)
        self.app.push_screen(question, renamed)

    def action_send_back(self) -> None:
        """Start a follow-up quoting the changes left out, asking the agent to rework them."""
        task = self.current_task()
        if task is None:
            return
        chooser = self.active_chooser()
        if chooser is None:
            self.notify(
                "Open the task's result (t) to choose its changes first", severity="warning"
            )
            return
        rejected = chooser.choice(chosen=False)
        if rejected is None:
            self.notify(
                "Every change is chosen: leave some out with space first", severity="warning"
            )
            return
        self.run_engine_call(
            self.client.send_back(task.id, rejected),
            lambda _: f"Sent the changes left out back to task {task.id} as a follow-up",
        )

    async def action_follow_up(self) -> None:
        """Ask for the follow-up prompt, returning once it is mounted and has focus."""
        task = self.current_task()
        if task is None:
            return
        if task.status in ACTIVE:
            self.notify(f"Task {task.id} is still {task.status}: wait for it to finish")
            return

        def send(prompt: str | None) -> None:
            if prompt:
                self.run_engine_call(
                    self.client.follow_up(task.id, prompt),
                    lambda _: f"Follow-up started on task {task.id}",
                )

        await self.app.push_screen(FollowUpScreen(task.id, task_title(task.prompt)), send)

    def action_pull_request(self) -> None:
        """Push the task's branch and open (or update) its pull request."""
        task = self.current_task()
        if task is None:
            return
        self.notify(f"Pushing {task.branch} and opening its pull request…", markup=False)
        self.run_engine_call(self.client.open_pull_request(task.id), pull_request_notice)

    async def action_cancel_task(self) -> None:
        """Cancel the task once the person confirms; its output and tokens so far are kept."""
        task = self.current_task()
        if task is None:
            return
        if task.status not in ACTIVE:
            self.notify(f"Task {task.id} is not running (it is {task.status})")
            return

        def cancel(confirmed: bool | None) -> None:
            if confirmed:
                self.notify(f"Cancelling task {task.id}…")
                self.run_engine_call(self.client.cancel(task.id))

        question = ConfirmScreen(
            f"Cancel task {task.id}?",
            f"{task_title(task.prompt)}\n\nIts command is stopped. The output and tokens so far "
            "are kept, and you can follow it up later.",
            "cancel the task",
        )
        await self.app.push_screen(question, cancel)

    def action_retry(self) -> None:
        task = self.current_task()
        if task is None:
            return
        self.run_engine_call(
            self.client.retry(task.id),
            lambda record: f"Task {task.id} retried as task {record.id}",
        )

    async def action_archive(self) -> None:
        """Archive the task, or bring an archived one back (they show with `is:archived`)."""
        task = self.current_task()
        if task is None:
            return
        if task.status in ACTIVE:
            self.notify(f"Task {task.id} is still {task.status}: cancel it first (x)")
            return
        if await self.set_archived(task, not task.archived):
            if task.archived:
                self.notify(f"Restored task {task.id}: {task_title(task.prompt)}", markup=False)
            else:
                self.archived_here.append(task.id)
                self.notify(
                    f"Archived task {task.id}: {task_title(task.prompt)} (u to undo)", markup=False
                )

    async def action_undo_archive(self) -> None:
        """Bring back the task this board archived last."""
        while self.archived_here:
            task = self.known_record(self.archived_here.pop())
            if task is not None and task.archived:
                if await self.set_archived(task, False):
                    self.notify(f"Restored task {task.id}: {task_title(task.prompt)}", markup=False)
                return
        self.notify("Nothing to undo: no task was archived here")

    async def set_archived(self, task: TaskRecord, archived: bool) -> bool:
        """Archive or restore the task; whether the service did."""
        try:
            await self.client.archive(task.id, archived)
        except EngineError as error:
            self.notify(str(error), severity="error", markup=False)
            return False
        self.task_archived(replace(task, archived=archived))
        return True

    def action_quit_board(self) -> None:
        """Close the board; running tasks go on in the service, and the terminal says so
        (the demo ends its tasks itself)."""
        demo = getattr(self.app, "demo", False)
        self.app.exit(message=None if demo else detach_notice(self.active_tasks()))
