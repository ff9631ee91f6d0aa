"""What clients hold of what happens to tasks: events, one frozen dataclass per fact, each
serialisable to one JSON object.

The same events feed the board and `taskyard run --json`; the store records them before they are
published.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass, field
from typing import Any, ClassVar

from engine.views.task import TaskStatus


def _now() -> float:
    return time.time()


@dataclass(frozen=True, kw_only=True)
class Event:
    """Base of all events: which task, when, and a dotted `type` name."""

    type: ClassVar[str] = "event"
    task_id: str
    ts: float = field(default_factory=_now)

    def to_dict(self) -> dict[str, Any]:
        """The event as a JSON-ready dict with `type`, `task_id` and `ts` first."""
        data = dataclasses.asdict(self)
        return {"type": self.type, **data}


@dataclass(frozen=True, kw_only=True)
class TaskQueued(Event):
    type: ClassVar[str] = "task.queued"
    prompt: str
    repo: str
    ref: str | None
    mode: str
    environment: str
    image: str
    group_id: str = ""
    """The id of attempt 1 of the request (best-of-N); the task's own id when it is alone."""
    attempt: int = 1


@dataclass(frozen=True, kw_only=True)
class TaskStatusChanged(Event):
    type: ClassVar[str] = "task.status"
    status: TaskStatus
    detail: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "status", TaskStatus(self.status))


@dataclass(frozen=True, kw_only=True)
class FollowUpStarted(Event):
    type: ClassVar[str] = "task.followup"
    prompt: str


@dataclass(frozen=True, kw_only=True)
class TaskArchived(Event):
    """The task was hidden from the default listing, or brought back (`archived` false)."""

    type: ClassVar[str] = "task.archived"
    archived: bool


@dataclass(frozen=True, kw_only=True)
class TaskResumed(Event):
    """The process running the task stopped, and another one takes it up where it was."""

    type: ClassVar[str] = "task.resumed"
    reason: str
    last_seen: float = 0.0
    """When the stopped process was last known alive (its lease's last heartbeat, or the
    task's last update): the run's wall time counts up to there, not the time it was down."""


@dataclass(frozen=True, kw_only=True)
class SourcePrepared(Event):
    type: ClassVar[str] = "source.prepared"
    base_sha: str
    ref: str
    branch: str


@dataclass(frozen=True, kw_only=True)
class SandboxReady(Event):
    type: ClassVar[str] = "sandbox.ready"
    sandbox_id: str
    image: str
    network: bool


@dataclass(frozen=True, kw_only=True)
class NetworkChanged(Event):
    type: ClassVar[str] = "sandbox.network"
    enabled: bool


@dataclass(frozen=True, kw_only=True)
class CommandStarted(Event):
    type: ClassVar[str] = "command.started"
    chunk_id: str
    command: list[str]
    workdir: str
    phase: str


@dataclass(frozen=True, kw_only=True)
class OutputChunk(Event):
    type: ClassVar[str] = "command.output"
    chunk_id: str
    text: str
    offset: int = 0
    """Where `text` starts in the command's output, in characters: a client that joins while
    the command runs places it after what it read from the log."""


@dataclass(frozen=True, kw_only=True)
class CommandFinished(Event):
    type: ClassVar[str] = "command.finished"
    chunk_id: str
    command: list[str]
    exit_code: int | None
    timed_out: bool
    duration: float
    output_lines: int
    output_bytes: int


@dataclass(frozen=True, kw_only=True)
class PatchApplied(Event):
    type: ClassVar[str] = "patch.applied"
    ok: bool
    summary: str


@dataclass(frozen=True, kw_only=True)
class AgentMessage(Event):
    type: ClassVar[str] = "agent.message"
    text: str
    turn: int


@dataclass(frozen=True, kw_only=True)
class ToolCallRejected(Event):
    type: ClassVar[str] = "agent.tool_error"
    tool: str
    error: str


@dataclass(frozen=True, kw_only=True)
class ModelRetry(Event):
    type: ClassVar[str] = "model.retry"
    attempt: int
    delay: float
    reason: str


@dataclass(frozen=True, kw_only=True)
class TurnUsage(Event):
    type: ClassVar[str] = "turn.usage"
    turn: int
    input_tokens: int
    output_tokens: int
    cached_tokens: int


@dataclass(frozen=True, kw_only=True)
class TaskFinished(Event):
    type: ClassVar[str] = "task.finished"
    status: TaskStatus
    diff: str
    final_message: str
    citations: list[dict[str, Any]]
    usage: dict[str, int]
    error: str = ""
    branch: str = ""
    head_sha: str = ""
    verdict: str = ""
    """The evidence's few words (see TaskRecord.verdict)."""
    verdict_detail: str = ""
    """Why, in a sentence, when the verdict is a concern."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "status", TaskStatus(self.status))


@dataclass(frozen=True, kw_only=True)
class PullRequestChanged(Event):
    """The task's branch was pushed and its pull request opened or updated, or that failed."""

    type: ClassVar[str] = "task.pull_request"
    action: str
    """opened, updated, pushed (no token: the request is opened by hand) or failed."""
    url: str = ""
    """The pull request's page; where to open it by hand when pushed."""
    number: int = 0
    detail: str = ""
    """What failed, or a note such as the base branch chosen."""


ALL_EVENTS: tuple[type[Event], ...] = (
    TaskQueued,
    TaskStatusChanged,
    FollowUpStarted,
    TaskResumed,
    TaskArchived,
    SourcePrepared,
    SandboxReady,
    NetworkChanged,
    CommandStarted,
    OutputChunk,
    CommandFinished,
    PatchApplied,
    AgentMessage,
    ToolCallRejected,
    ModelRetry,
    TurnUsage,
    TaskFinished,
    PullRequestChanged,
)
EVENT_TYPES: dict[str, type[Event]] = {cls.type: cls for cls in ALL_EVENTS}


def event_from_dict(data: dict[str, Any]) -> Event:
    """Rebuild an event from its dict form (as stored)."""
    cls = EVENT_TYPES[data["type"]]
    names = {f.name for f in dataclasses.fields(cls)}
    return cls(**{k: v for k, v in data.items() if k in names})
