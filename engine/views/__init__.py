"""What clients hold: the frozen values and errors that cross the service protocol, in one
door (events are `engine.views.events`).

Light on purpose: importing it loads no git, Docker, model client, UI or asyncio code, so the
board and a one-call command can hold what the service answers. The engine imports the
submodule that defines a type; clients import from here.
"""

from engine.views.accept import Accepted, AcceptRequest, BranchTaken, Choice, Delivery
from engine.views.citations import parse_citations
from engine.views.diff import FileDiff, Hunk
from engine.views.diffstat import FileStat, diff_stat
from engine.views.hosts import ContainerRemoval, FileRemoval, GcReport
from engine.views.request import MAX_ATTEMPTS, Mode, TaskRequest, UncommittedWork, is_remote
from engine.views.result import CONCERN, CheckRun, Evidence, RankedAttempt
from engine.views.safety import Finding, UnsafeResult
from engine.views.service import ServiceStatus
from engine.views.task import ACTIVE, REVIEWABLE, TERMINAL, CommandRecord, TaskRecord, TaskStatus

__all__ = [
    "ACTIVE",
    "CONCERN",
    "MAX_ATTEMPTS",
    "REVIEWABLE",
    "TERMINAL",
    "AcceptRequest",
    "Accepted",
    "BranchTaken",
    "CheckRun",
    "Choice",
    "CommandRecord",
    "ContainerRemoval",
    "Delivery",
    "Evidence",
    "FileDiff",
    "FileRemoval",
    "FileStat",
    "Finding",
    "GcReport",
    "Hunk",
    "Mode",
    "RankedAttempt",
    "ServiceStatus",
    "TaskRecord",
    "TaskRequest",
    "TaskStatus",
    "UncommittedWork",
    "UnsafeResult",
    "diff_stat",
    "is_remote",
    "parse_citations",
]
