"""The task state machine: the only transitions allowed between statuses (`engine.views.task`)."""

from __future__ import annotations

from engine.views.task import InvalidTransition, TaskStatus

_ALLOWED: dict[TaskStatus, frozenset[TaskStatus]] = {
    TaskStatus.QUEUED: frozenset(
        {TaskStatus.PROVISIONING, TaskStatus.FAILED, TaskStatus.CANCELLED}
    ),
    TaskStatus.PROVISIONING: frozenset({TaskStatus.SETUP, TaskStatus.FAILED, TaskStatus.CANCELLED}),
    TaskStatus.SETUP: frozenset({TaskStatus.RUNNING, TaskStatus.FAILED, TaskStatus.CANCELLED}),
    TaskStatus.RUNNING: frozenset({TaskStatus.READY, TaskStatus.FAILED, TaskStatus.CANCELLED}),
    TaskStatus.READY: frozenset({TaskStatus.ACCEPTED, TaskStatus.PR_OPENED, TaskStatus.RUNNING}),
    TaskStatus.FAILED: frozenset({TaskStatus.QUEUED, TaskStatus.RUNNING}),
    TaskStatus.CANCELLED: frozenset({TaskStatus.QUEUED, TaskStatus.RUNNING}),
    TaskStatus.ACCEPTED: frozenset({TaskStatus.RUNNING, TaskStatus.PR_OPENED}),
    TaskStatus.PR_OPENED: frozenset({TaskStatus.RUNNING, TaskStatus.ACCEPTED}),
}


def check_transition(current: TaskStatus, new: TaskStatus) -> None:
    """Raise InvalidTransition unless current -> new is allowed."""
    if new not in _ALLOWED[current]:
        raise InvalidTransition(
            f"a task cannot go from {current} to {new}: it changed meanwhile; "
            "look at it again (`taskyard show`)"
        )
