"""The title and body of a task's pull request: the answer as summary, the checks the agent ran
with their real exit codes, and the answer's citations linked to the forge's pages."""

from __future__ import annotations

import re
from typing import Any

from engine.citations import parse_citations
from engine.evidence import CheckRun, Evidence, command_text, evidence_for
from engine.forge import PullRequestText
from engine.forge_target import ForgeTarget
from engine.store import CommandRecord, TaskRecord

TITLE_WIDTH = 72
MAX_ANSWER_CHARS = 20_000
MAX_PROMPT_CHARS = 4_000
MAX_LISTED = 30
OUTCOME_MARKS = {"pass": "✅", "fail": "❌", "timeout": "⏱️", "unfinished": "⏸️"}


def pull_request_text(
    record: TaskRecord,
    commands: list[CommandRecord],
    target: ForgeTarget,
    base: str,
    draft: bool = False,
) -> PullRequestText:
    """Title, body, head and base of the pull request of a task's result."""
    outputs = {command.chunk_id: command_text(command.command) for command in commands}
    sections = [
        summary(record, target, outputs),
        checks_section(evidence_for(record, commands)),
        citations_section(record.citations, target, record.head_sha, outputs),
        task_section(record),
    ]
    body = "\n\n".join(section for section in sections if section)
    return PullRequestText(title(record.prompt), body, record.branch, base, draft)


def title(prompt: str) -> str:
    """The prompt's first non-empty line, cut to a title's width."""
    lines = [line.strip() for line in prompt.strip().splitlines() if line.strip()]
    first = lines[0] if lines else "taskyard task"
    return first if len(first) <= TITLE_WIDTH else first[: TITLE_WIDTH - 1] + "…"


def code(text: str) -> str:
    """Markdown inline code on one line, fenced with more backticks than the text holds."""
    line = " ⏎ ".join(part.strip() for part in text.strip().splitlines())
    runs = re.findall(r"`+", line)
    if not runs:
        return f"`{line}`"
    fence = "`" * (max(len(run) for run in runs) + 1)
    return f"{fence} {line} {fence}"


def summary(record: TaskRecord, target: ForgeTarget, outputs: dict[str, str]) -> str:
    """The agent's answer with each citation written as a link or a readable reference."""
    answer = record.final_message.strip()[:MAX_ANSWER_CHARS]
    if not answer:
        return ""
    pieces: list[str] = []
    end = 0
    for citation in parse_citations(answer):
        pieces.append(answer[end : citation.offset])
        pieces.append(
            reference(
                citation.kind,
                citation.target,
                citation.start,
                citation.end,
                target,
                record.head_sha,
                outputs,
            )
        )
        end = citation.offset + len(citation.raw)
    pieces.append(answer[end:])
    return "".join(pieces)


def reference(
    kind: str,
    cited: str,
    start: int,
    end: int,
    target: ForgeTarget,
    head_sha: str,
    outputs: dict[str, str],
) -> str:
    """A citation for people on the forge: a link to the file's lines, or the command whose
    output it cites."""
    lines = f"L{start}" if start == end else f"L{start}-L{end}"
    if kind == "file":
        if not head_sha:
            return f"({code(cited)} {lines})"
        return f"([{cited} {lines}]({target.file_url(head_sha, cited, start, end)}))"
    command = outputs.get(cited)
    return f"(output of {code(command)} {lines})" if command else f"(output {cited} {lines})"


def checks_section(evidence: Evidence) -> str:
    """The test and check commands the agent ran, each with its stored outcome."""
    lines = ["### Checks", ""]
    if not evidence.checks:
        lines.append("The agent ran no test or check command.")
    for run in evidence.checks[-MAX_LISTED:]:
        lines.append(f"- {check_line(run)}")
    if len(evidence.checks) > MAX_LISTED:
        lines.append(f"- … and {len(evidence.checks) - MAX_LISTED} earlier runs")
    if evidence.warning:
        lines += ["", f"> **Warning:** {evidence.warning}"]
    return "\n".join(lines)


def check_line(run: CheckRun) -> str:
    mark = OUTCOME_MARKS[run.outcome]
    exit_code = f" (exit {run.exit_code})" if run.exit_code is not None else ""
    return f"{mark} {code(run.command)} — {run.outcome}{exit_code}"


def citations_section(
    citations: list[dict[str, Any]], target: ForgeTarget, head_sha: str, outputs: dict[str, str]
) -> str:
    """Every citation of the answer with its verification; invalid ones say why."""
    if not citations:
        return ""
    lines = ["### Citations", ""]
    for citation in citations[:MAX_LISTED]:
        mark = "✓" if citation.get("valid") else "✗ invalid:"
        where = reference(
            str(citation["kind"]),
            str(citation["target"]),
            int(citation["start"]),
            int(citation["end"]),
            target,
            head_sha,
            outputs,
        ).strip("()")
        reason = "" if citation.get("valid") else f" — {citation.get('reason', '')}"
        lines.append(f"- {mark} {where}{reason}")
    return "\n".join(lines)


def task_section(record: TaskRecord) -> str:
    """What was asked, and by which task."""
    prompt = record.prompt.strip()[:MAX_PROMPT_CHARS]
    quoted = "\n".join(f"> {line}" for line in prompt.splitlines())
    return f"### Task\n\n{quoted}\n\n---\nOpened by taskyard from task `{record.id}`."
