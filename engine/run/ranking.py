"""Ranking the attempts of one request by evidence: checks passing, then a smaller diff, then a
lower cost; attempts that failed or were cancelled come last."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from engine.run.evidence import evidence_for
from engine.views.diffstat import diff_stat
from engine.views.result import RankedAttempt
from engine.views.task import ACTIVE, REVIEWABLE, CommandRecord, TaskRecord

CHECK_TIERS = {True: 0, None: 1, False: 3}
"""Checks all passing rank first, then none run, then some failing; an unsupported success
claim moves an attempt one tier down."""

Price = Callable[[int, int], float | None]
"""Dollars for (input, output) tokens; None when unpriced."""


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
