"""What the action keys do to the current task: accept, follow up, pull request, cancel, retry,
archive, quit."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, TypeVar

from textual.message import Message
from textual.screen import Screen

from engine.api import Engine, EngineError
from engine.delivery import DELIVERABLE, Delivery
from engine.sanitize import strip_terminal_controls
from engine.states import ACTIVE, TaskStatus
from engine.store import TaskRecord
from tui.screens.follow_up import FollowUpScreen
from tui.widgets.task_row import task_title

QUIT_CONFIRM_SECONDS = 3.0

Result = TypeVar("Result")


def pull_request_applies(record: TaskRecord) -> bool:
    """Whether the task has a result that can become a pull request."""
    return record.mode == "code" and TaskStatus(record.status) in DELIVERABLE


def pull_request_notice(delivery: Delivery) -> str:
    """What became of the pull request, for a notification."""
    if delivery.action == "pushed" and not delivery.number:
        notice = f"Pushed {delivery.branch}; {delivery.note}. Open the request at {delivery.url}"
    elif delivery.action == "pushed":
        notice = f"Pushed {delivery.branch}; #{delivery.number} not updated: {delivery.note}"
    else:
        notice = f"Pull request #{delivery.number} {delivery.action}: {delivery.url}"
    return strip_terminal_controls(notice)


class TaskChanged(Message):
    """A task's record changed outside the event stream (accepted, for one)."""

    def __init__(self, task_id: str) -> None:
        super().__init__()
        self.task_id = task_id


class TaskActions(Screen[None]):
    """Action handlers of the board; engine calls that may block run in workers."""

    if TYPE_CHECKING:

        @property
        def engine(self) -> Engine: ...

        def current_task_id(self) -> str | None: ...

        def task_archived(self, task_id: str) -> None: ...

    quit_requested_at: float | None = None

    def current_task(self) -> TaskRecord | None:
        """The current task's record; a notice when there is none."""
        task_id = self.current_task_id()
        if task_id is None:
            self.notify("No task selected: press n to start one", severity="warning")
            return None
        return self.engine.task(task_id)

    def run_engine_call(
        self,
        call: Awaitable[Result],
        describe: Callable[[Result], str] | None = None,
        changed_task: str = "",
    ) -> None:
        """Await an engine call in a worker; notify its error or its description when done.

        The worker touches no widget: a changed task is announced with a TaskChanged message.
        """

        async def work() -> None:
            try:
                result = await call
            except EngineError as error:
                self.notify(str(error), severity="error", markup=False)
                return
            if describe is not None:
                self.notify(describe(result), markup=False)
            if changed_task:
                self.post_message(TaskChanged(changed_task))

        self.run_worker(work(), group="engine-calls")

    def action_accept(self) -> None:
        task = self.current_task()
        if task is None:
            return
        self.run_engine_call(
            self.engine.apply(task.id),
            lambda applied: f"Task {task.id} accepted: branch {applied[0]} in {task.repo}",
            changed_task=task.id,
        )

    async def action_follow_up(self) -> None:
        """Ask for the follow-up prompt, returning once it is mounted and has focus."""
        task = self.current_task()
        if task is None:
            return
        if TaskStatus(task.status) in ACTIVE:
            self.notify(f"Task {task.id} is still {task.status}: wait for it to finish")
            return

        def send(prompt: str | None) -> None:
            if prompt:
                self.run_engine_call(
                    self.engine.follow_up(task.id, prompt),
                    lambda _: f"Follow-up started on task {task.id}",
                )

        await self.app.push_screen(FollowUpScreen(task.id, task_title(task.prompt)), send)

    def action_pull_request(self) -> None:
        """Push the task's branch and open (or update) its pull request."""
        task = self.current_task()
        if task is None:
            return
        self.notify(f"Pushing {task.branch} and opening its pull request…", markup=False)
        self.run_engine_call(
            self.engine.open_pull_request(task.id), pull_request_notice, changed_task=task.id
        )

    def action_cancel_task(self) -> None:
        task = self.current_task()
        if task is None:
            return
        if TaskStatus(task.status) not in ACTIVE:
            self.notify(f"Task {task.id} is not running (it is {task.status})")
            return
        self.notify(f"Cancelling task {task.id}…")
        self.run_engine_call(self.engine.cancel(task.id))

    def action_retry(self) -> None:
        task = self.current_task()
        if task is None:
            return
        self.run_engine_call(
            self.engine.retry(task.id),
            lambda record: f"Task {task.id} retried as task {record.id}",
        )

    def action_archive(self) -> None:
        task = self.current_task()
        if task is None:
            return
        if TaskStatus(task.status) in ACTIVE:
            self.notify(f"Task {task.id} is still {task.status}: cancel it first (x)")
            return
        try:
            self.engine.archive(task.id)
        except EngineError as error:
            self.notify(str(error), severity="error", markup=False)
            return
        self.task_archived(task.id)
        self.notify(f"Archived task {task.id}: {task_title(task.prompt)}", markup=False)

    def action_quit_board(self) -> None:
        """Quit; while tasks run, only on a second press within a few seconds."""
        running = [task for task in self.engine.tasks() if TaskStatus(task.status) in ACTIVE]
        now = time.monotonic()
        last = self.quit_requested_at
        if running and (last is None or now - last > QUIT_CONFIRM_SECONDS):
            self.quit_requested_at = now
            self.notify(
                f"{len(running)} task(s) running: quitting cancels them. Press q again to quit.",
                severity="warning",
            )
            return
        self.app.exit()
