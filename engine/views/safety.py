"""What clients hold about a result refused as unsafe: the findings, and the errors that carry
them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from engine.errors import EngineError


@dataclass(frozen=True)
class Finding:
    """One reason a result is unsafe, about one path; in one of its commits when `commit` is
    set (else in the change accepted), at one line of the file when `line` is set."""

    path: str
    reason: str
    commit: str = ""
    line: int = 0

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else self.path
        within = f"commit {self.commit[:12]}: " if self.commit else ""
        return f"{within}{where}: {self.reason}"

    def in_commit(self, commit: str) -> Finding:
        """This finding, found in `commit`."""
        return replace(self, commit=commit)

    def to_dict(self) -> dict[str, str | int]:
        return {"path": self.path, "reason": self.reason, "commit": self.commit, "line": self.line}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Finding:
        return cls(str(data["path"]), str(data["reason"]), str(data["commit"]), int(data["line"]))


class UnsafeResult(EngineError):
    """The patch to accept was flagged; the person must confirm to accept it anyway."""

    def __init__(self, task_id: str, findings: Sequence[Finding]) -> None:
        self.task_id = task_id
        self.findings = tuple(findings)
        listed = "\n".join(f"  {finding}" for finding in self.findings)
        super().__init__(f"task {task_id}'s result was refused as unsafe:\n{listed}")


class SecretInResult(EngineError):
    """The result carries a secret value; it is never accepted or pushed, whatever is asked."""

    def __init__(self, task_id: str, found: Sequence[Finding]) -> None:
        self.task_id = task_id
        self.findings = tuple(found)
        listed = "\n".join(f"  {finding}" for finding in self.findings)
        super().__init__(
            f"task {task_id}'s result carries a secret value and is refused (no option "
            f"overrides this):\n{listed}\nask the agent in a follow-up to remove it from every "
            "commit (e.g. reset to the base and commit again), or retry the task"
        )
