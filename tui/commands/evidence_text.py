"""The evidence behind a result as plain text: the checks with their stored exit codes, the
warning when the answer claims a success they contradict, and the citations' verification."""

from __future__ import annotations

from typing import Any

from engine.views import CheckRun, Evidence
from tui.colour import write
from tui.commands.common import one_line, plural

MARKS = {"pass": "✓", "fail": "✗", "timeout": "✗", "unfinished": "?"}
"""The mark of each check outcome: only a finished run with exit 0 passes."""


def checks_summary(evidence: Evidence) -> str:
    """One line on what the last run of each check command says."""
    latest = evidence.latest
    if not latest:
        return "none: the agent ran no test or check command"
    failing = sum(1 for run in latest if not run.passed)
    runs = plural(len(evidence.checks), "run")
    if failing:
        return f"✗ {failing} of {plural(len(latest), 'command')} failed on its last run ({runs})"
    return f"✓ the last run of each of {plural(len(latest), 'command')} passed ({runs})"


def check_line(run: CheckRun, last: bool) -> str:
    """`✗ fail  exit 1  c0ffee01  earlier  pytest -q`: the mark and exit code from the store."""
    exit_text = "—" if run.exit_code is None else f"exit {run.exit_code}"
    which = "last" if last else "earlier"
    mark = MARKS[run.outcome]
    command = one_line(run.command, 80)
    return f"  {mark} {run.outcome:<10} {exit_text:<8} {run.chunk_id}  {which:<7}  {command}"


def print_checks(evidence: Evidence) -> None:
    """Every check run in order; the last run of each command is the one that counts."""
    print(f"\nchecks  {checks_summary(evidence)}")
    latest = {run.chunk_id for run in evidence.latest}
    for run in evidence.checks:
        print(check_line(run, run.chunk_id in latest))


def print_warning(evidence: Evidence) -> None:
    """A prominent line when the answer claims a success the checks do not back."""
    if evidence.warning:
        write("\n⚠ WARNING: ", "yellow")
        print(one_line(evidence.warning, 300))


def citations_summary(evidence: Evidence) -> str:
    total = evidence.citations_valid + evidence.citations_invalid
    if evidence.citations_invalid:
        return f"{evidence.citations_invalid} of {plural(total, 'citation')} invalid"
    return f"all {plural(total, 'citation')} verified"


def citation_line(citation: dict[str, Any]) -> str:
    """`✓ file  calc.py L1-L2`, or `✗ chunk 1a2b L3  INVALID: unknown chunk`."""
    span = f"L{citation['start']}-L{citation['end']}"
    target = f"{citation['target']} {span}"
    if citation.get("valid"):
        return f"  ✓ {citation['kind']:<5} {target}"
    reason = str(citation.get("reason") or "not verified")
    return f"  ✗ {citation['kind']:<5} {target}  INVALID: {reason}"


def print_citations(citations: list[dict[str, Any]], evidence: Evidence) -> None:
    if not citations:
        return
    print(f"\ncitations  {citations_summary(evidence)}")
    for citation in citations:
        print(citation_line(citation))
