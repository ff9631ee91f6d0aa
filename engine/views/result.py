"""What clients hold about a result's evidence: the checks the agent ran, and attempts ranked
on them. Every mark comes from the stored command records, never from the model's words."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from engine.views.task import REVIEWABLE, TaskRecord

CONCERN = "⚠"
"""The mark of a verdict that needs a second look."""


@dataclass(frozen=True)
class CheckRun:
    """One test or check command the agent ran, with its outcome from the store."""

    chunk_id: str
    command: str
    exit_code: int | None
    timed_out: bool

    @property
    def passed(self) -> bool:
        return self.exit_code == 0 and not self.timed_out

    @property
    def outcome(self) -> str:
        """ "pass", "fail", "timeout" or "unfinished"."""
        if self.timed_out:
            return "timeout"
        if self.exit_code is None:
            return "unfinished"
        return "pass" if self.exit_code == 0 else "fail"

    def to_dict(self) -> dict[str, Any]:
        return {
            "chunk_id": self.chunk_id,
            "command": self.command,
            "exit_code": self.exit_code,
            "timed_out": self.timed_out,
            "outcome": self.outcome,
        }


@dataclass(frozen=True)
class Evidence:
    """The checks behind a result and what they say about its answer."""

    checks: list[CheckRun]
    """Every test/check command the agent ran, in order."""
    claim: str
    """The sentence fragment where the answer claims success; empty when it makes no claim."""
    citations_valid: int
    citations_invalid: int

    @property
    def latest(self) -> list[CheckRun]:
        """The last run of each distinct check command, in order of those last runs."""
        last: dict[str, CheckRun] = {}
        for run in self.checks:
            last.pop(run.command, None)
            last[run.command] = run
        return list(last.values())

    @property
    def last_check(self) -> CheckRun | None:
        return self.checks[-1] if self.checks else None

    @property
    def checks_pass(self) -> bool | None:
        """True when the last run of every check passed, False when one failed, None if none ran."""
        if not self.checks:
            return None
        return all(run.passed for run in self.latest)

    @property
    def unsupported_claim(self) -> bool:
        """The answer claims success but the last run of a check command failed (or none ran)."""
        return bool(self.claim) and self.checks_pass is not True

    @property
    def warning(self) -> str:
        """One line for people when the answer's claim is not backed by the runs; else empty."""
        if not self.unsupported_claim:
            return ""
        if not self.checks:
            return f'the answer says "{self.claim}" but the agent ran no test or check command'
        failed = next(run for run in reversed(self.latest) if not run.passed)
        return (
            f'the answer says "{self.claim}" but the last run of `{failed.command}` '
            f"({failed.chunk_id}) ended {failed.outcome}"
            + (f" with exit {failed.exit_code}" if failed.outcome == "fail" else "")
        )

    @property
    def verdict(self) -> str:
        """A few words for a task's row: what most needs a second look, after `⚠` (a claim
        the runs do not back, failing checks, citations that do not check out), or
        `✓ checks pass`; empty when no check ran and nothing else is wrong."""
        if self.unsupported_claim:
            return f"{CONCERN} claim ≠ runs" if self.checks else f"{CONCERN} no tests run"
        if self.checks_pass is False:
            return f"{CONCERN} checks fail"
        if self.citations_invalid:
            return f"{CONCERN} {self.citations_invalid} bad cite" + "s" * (
                self.citations_invalid > 1
            )
        return "✓ checks pass" if self.checks_pass else ""

    @property
    def verdict_detail(self) -> str:
        """The verdict's reason in a sentence, when it is a concern; else empty."""
        if self.unsupported_claim:
            return self.warning
        if self.checks_pass is False:
            failed = next(run for run in reversed(self.latest) if not run.passed)
            return f"the last run of `{failed.command}` ({failed.chunk_id}) ended {failed.outcome}"
        if self.citations_invalid:
            total = self.citations_valid + self.citations_invalid
            return f"{self.citations_invalid} of {total} citations do not point at what they name"
        return ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "verdict": self.verdict,
            "checks": [run.to_dict() for run in self.checks],
            "checks_pass": self.checks_pass,
            "claim": self.claim,
            "unsupported_claim": self.unsupported_claim,
            "warning": self.warning,
            "citations_valid": self.citations_valid,
            "citations_invalid": self.citations_invalid,
        }


@dataclass(frozen=True)
class RankedAttempt:
    """One attempt with the evidence it was ranked on; `rank` counts from 1."""

    rank: int
    record: TaskRecord
    evidence: Evidence
    lines_added: int
    lines_removed: int
    files_changed: int
    tokens: int
    cost: float | None

    @property
    def lines_changed(self) -> int:
        return self.lines_added + self.lines_removed

    @property
    def checks_passed(self) -> int:
        return sum(1 for run in self.evidence.latest if run.passed)

    @property
    def checks_failed(self) -> int:
        return len(self.evidence.latest) - self.checks_passed

    @property
    def checks_counts(self) -> str:
        """`✓ 2 pass 0 fail`, `✗ 1 pass 1 fail` (the last run of each check), or `— none ran`."""
        passes = self.evidence.checks_pass
        if passes is None:
            return "— none ran"
        return f"{'✓' if passes else '✗'} {self.checks_passed} pass {self.checks_failed} fail"

    @property
    def reasons(self) -> list[str]:
        """What the rank rests on, in the order it was weighed, for people."""
        reasons = [] if self.finished_well else [self.outcome]
        reasons.append(self.checks_summary)
        if self.evidence.unsupported_claim:
            reasons.append("claims a success the checks do not back")
        lines, files = _count(self.lines_changed, "line"), _count(self.files_changed, "file")
        reasons.append(f"{lines} changed in {files}")
        reasons.append(f"${self.cost:.4f}" if self.cost is not None else f"{self.tokens} tokens")
        return reasons

    @property
    def finished_well(self) -> bool:
        return self.record.status in REVIEWABLE

    @property
    def outcome(self) -> str:
        error = self.record.error.strip().splitlines()
        return f"{self.record.status}: {error[0]}" if error else self.record.status

    @property
    def checks_summary(self) -> str:
        if self.evidence.checks_pass is None:
            return "no checks ran"
        checks = _count(len(self.evidence.latest), "check")
        if self.evidence.checks_pass:
            return f"{checks} passing"
        return f"{self.checks_failed} of {checks} failing"

    def to_dict(self) -> dict[str, Any]:
        return {
            "rank": self.rank,
            "task_id": self.record.id,
            "attempt": self.record.attempt,
            "status": self.record.status,
            "host": self.record.host,
            "checks_pass": self.evidence.checks_pass,
            "checks_passed": self.checks_passed,
            "checks_failed": self.checks_failed,
            "unsupported_claim": self.evidence.unsupported_claim,
            "lines_added": self.lines_added,
            "lines_removed": self.lines_removed,
            "files_changed": self.files_changed,
            "tokens": self.tokens,
            "cost": self.cost,
            "reasons": self.reasons,
        }


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"
