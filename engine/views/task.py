"""What clients hold of a task and its commands: its status and frozen records, the same in
the store and on the wire. The board and the CLI hold these, never storage rows."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

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


class InvalidTransition(EngineError):
    """A status change that the state machine does not allow (the task changed meanwhile)."""


@dataclass(frozen=True)
class TaskRecord:
    """One task as stored."""

    id: str
    created: float
    updated: float
    prompt: str
    repo: str
    ref: str | None
    mode: str
    environment: str
    image: str
    status: TaskStatus
    base_sha: str = ""
    branch: str = ""
    head_sha: str = ""
    sandbox_id: str = ""
    final_message: str = ""
    diff: str = ""
    error: str = ""
    citations: list[dict[str, Any]] = field(default_factory=list)
    usage: dict[str, int] = field(default_factory=dict)
    result_bundle: str = ""
    owner: str = ""
    instructions: str = ""
    archived: bool = False
    host: str = ""
    """The Docker host the task runs on; empty until it is placed."""
    group_id: str = ""
    """The id of attempt 1 of the request this task is an attempt of; empty in older stores."""
    attempt: int = 1
    """Which attempt of its group this task is, from 1."""
    pr_url: str = ""
    """The web page of the task's pull (merge) request; empty when none was opened."""
    pr_number: int = 0
    """Its number (GitLab: iid); 0 when none."""
    pr_forge: str = ""
    """github or gitlab, where it was opened."""
    findings: list[dict[str, Any]] = field(default_factory=list)
    """What the host found in the result's commits when the task finished: unsafe changes and
    secret values (by name, never the value), each with its commit, path and line."""
    verdict: str = ""
    """A few words on the evidence behind the result, from `Evidence.verdict`: `✓ checks pass`,
    or `⚠` and what needs a second look; empty before a result or with nothing to say."""
    include_uncommitted: bool = False
    """The task starts from the repository's uncommitted changes, committed on top of its ref
    when its source is prepared (`base_sha` is that commit)."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "status", TaskStatus(self.status))

    @property
    def group(self) -> str:
        """The id shared by every attempt of this task's request."""
        return self.group_id or self.id

    def to_dict(self) -> dict[str, Any]:
        return {field.name: getattr(self, field.name) for field in dataclasses.fields(self)}


@dataclass(frozen=True)
class CommandRecord:
    """One command run in a task's sandbox; its full output is in log_path."""

    chunk_id: str
    task_id: str
    phase: str
    command: list[str]
    workdir: str
    started: float
    finished: float | None
    exit_code: int | None
    timed_out: bool
    output_lines: int
    output_bytes: int
    log_path: str
    run_id: str = ""
    """The run id the sandbox knows the command by, chosen before it started; empty in older
    stores."""
    call_id: str = ""
    """The model's tool call the command ran for; empty for the engine's own commands."""

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)
