"""The task state machine: statuses and the only transitions allowed between them."""

from __future__ import annotations

from enum import StrEnum

from engine.errors import EngineError


class TaskStatus(StrEnum):
    """A task's status; its value is what the store and the events hold."""

    QUEUED = "queued"
    PROVISIONING = "provisioning"
    SETUP = "setup"
    RUNNING = "running"
    READY = "ready"
    FAILED = "failed"
    CANCELLED = "cancelled"
    ACCEPTED = "accepted"
    PR_OPENED = "pr-opened"


TERMINAL = frozenset({TaskStatus.READY, TaskStatus.FAILED, TaskStatus.CANCELLED})
"""Statuses a task run ends in."""
ACTIVE = frozenset(
    {TaskStatus.QUEUED, TaskStatus.PROVISIONING, TaskStatus.SETUP, TaskStatus.RUNNING}
)
"""Statuses of a task still at work."""
REVIEWABLE = frozenset({TaskStatus.READY, TaskStatus.ACCEPTED, TaskStatus.PR_OPENED})
"""Statuses of a task with a result to review, accept or deliver."""

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


class InvalidTransition(EngineError):
    """A status change that the state machine does not allow (the task changed meanwhile)."""


def check_transition(current: TaskStatus, new: TaskStatus) -> None:
    """Raise InvalidTransition unless current -> new is allowed."""
    if new not in _ALLOWED[current]:
        raise InvalidTransition(
            f"a task cannot go from {current} to {new}: it changed meanwhile; "
            "look at it again (`taskyard show`)"
        )
