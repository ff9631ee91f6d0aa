"""Ranking the attempts of one request by evidence: checks passing, then a smaller diff, then a
lower cost; attempts that failed or were cancelled come last."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from engine.diff.diffs import diff_stat
from engine.record.states import ACTIVE, REVIEWABLE
from engine.record.views import CommandRecord, TaskRecord
from engine.run.evidence import Evidence, evidence_for

CHECK_TIERS = {True: 0, None: 1, False: 3}
"""Checks all passing rank first, then none run, then some failing; an unsupported success
claim moves an attempt one tier down."""

Price = Callable[[int, int], float | None]
"""Dollars for (input, output) tokens; None when unpriced."""


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


def _outcome_tier(record: TaskRecord) -> int:
    if record.status in REVIEWABLE:
        return 0
    return 1 if record.status in ACTIVE else 2


def _sort_key(attempt: RankedAttempt) -> tuple[float, ...]:
    evidence = attempt.evidence
    checks = CHECK_TIERS[evidence.checks_pass] + int(evidence.unsupported_claim)
    spent = attempt.cost if attempt.cost is not None else attempt.tokens
    return (
        _outcome_tier(attempt.record),
        checks,
        attempt.lines_changed,
        spent,
        attempt.record.attempt,
    )


def _unranked(record: TaskRecord, commands: list[CommandRecord], price: Price) -> RankedAttempt:
    stats = diff_stat(record.diff)
    input_tokens = record.usage.get("input_tokens", 0)
    output_tokens = record.usage.get("output_tokens", 0)
    return RankedAttempt(
        rank=0,
        record=record,
        evidence=evidence_for(record, commands),
        lines_added=sum(stat.added for stat in stats),
        lines_removed=sum(stat.removed for stat in stats),
        files_changed=len(stats),
        tokens=input_tokens + output_tokens,
        cost=price(input_tokens, output_tokens),
    )


def rank_attempts(
    records: list[TaskRecord],
    commands: Callable[[str], list[CommandRecord]],
    price: Price,
) -> list[RankedAttempt]:
    """The attempts best first; `commands` reads a task's commands by its id."""
    unranked = [_unranked(record, commands(record.id), price) for record in records]
    ordered = sorted(unranked, key=_sort_key)
    return [replace(attempt, rank=position) for position, attempt in enumerate(ordered, 1)]
