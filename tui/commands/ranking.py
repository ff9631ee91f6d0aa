"""The ranked comparison of a best-of-N task's attempts, as `run` and `show` print it."""

from __future__ import annotations

from engine.views import RankedAttempt

HEADER = (
    f"{'RANK':<5}{'ATT':<4}{'TASK':<10}{'STATUS':<11}{'CHECKS':<18}{'DIFF':<12}"
    f"{'FILES':>5}  {'TOKENS':>8}  {'COST':>8}  HOST"
)


def cost_cell(cost: float | None) -> str:
    return "—" if cost is None else f"${cost:.4f}"


def ranking_row(entry: RankedAttempt) -> str:
    record = entry.record
    diff = f"+{entry.lines_added} -{entry.lines_removed}"
    return (
        f"{entry.rank:<5}{record.attempt:<4}{record.id:<10}{record.status:<11}"
        f"{entry.checks_counts:<18}{diff:<12}{entry.files_changed:>5}  {entry.tokens:>8}  "
        f"{cost_cell(entry.cost):>8}  {record.host or '—'}"
    )


def print_ranking(ranked: list[RankedAttempt]) -> None:
    """The attempts best first, why the best leads, and how to take it."""
    print("\nattempts, best first (checks passing, then a smaller diff, then lower cost)")
    print(f"  {HEADER}")
    for entry in ranked:
        print(f"  {ranking_row(entry)}")
        if entry.evidence.unsupported_claim:
            print(f"  {'':<9}! {entry.evidence.warning}")
    best = ranked[0]
    print(f"\nbest: attempt {best.record.attempt} — {'; '.join(best.reasons)}")
    if best.finished_well:
        group = best.record.group
        print(f"next: taskyard apply {group} --attempt {best.record.attempt}")
