"""The title and body of a task's pull request: the answer as summary, the checks the agent ran
with their real exit codes, and the answer's citations linked to the forge's pages."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from engine.delivery.forge import PullRequestText
from engine.delivery.forge_target import ForgeTarget
from engine.run.evidence import command_text, evidence_for
from engine.views.citations import parse_citations
from engine.views.result import CheckRun, Evidence
from engine.views.task import CommandRecord, TaskRecord

TITLE_WIDTH = 72
MAX_ANSWER_CHARS = 20_000
MAX_PROMPT_CHARS = 4_000
MAX_LISTED = 30
CHECKS_VERDICT = {
    True: "The last run of every check passed.",
    False: "The last run of a check did not pass.",
    None: "The agent ran no test or check command.",
}
OUTCOME_MARKS = {"pass": "✅", "fail": "❌", "timeout": "⏱️", "unfinished": "⏸️"}


def pull_request_text(
    record: TaskRecord,
    commands: list[CommandRecord],
    target: ForgeTarget,
    base: str,
    draft: bool = False,
) -> PullRequestText:
    """Title, body, head and base of the pull request of a task's result."""
    references = References.of(record, commands, target)
    sections = [
        summary(record.final_message, references),
        checks_section(evidence_for(record, commands)),
        citations_section(record.citations, references),
        task_section(record),
    ]
    body = "\n\n".join(section for section in sections if section)
    return PullRequestText(title(record.prompt), body, record.branch, base, draft)


CitationKey = tuple[str, str, int, int]


@dataclass(frozen=True)
class References:
    """Writes citations for people on the forge: a file's lines as a link to them at the
    task's head, command output as the command that printed it."""

    target: ForgeTarget
    head_sha: str
    commands: dict[str, str]
    """Chunk id -> the command as a person reads it."""
    invalid: frozenset[CitationKey]

    @classmethod
    def of(
        cls, record: TaskRecord, commands: list[CommandRecord], target: ForgeTarget
    ) -> References:
        by_chunk = {command.chunk_id: command_text(command.command) for command in commands}
        invalid = frozenset(
            _key(citation) for citation in record.citations if not citation.get("valid")
        )
        return cls(target, record.head_sha, by_chunk, invalid)

    def write(self, kind: str, cited: str, start: int, end: int) -> str:
        lines = f"L{start}" if start == end else f"L{start}-L{end}"
        if kind != "file":
            command = self.commands.get(cited)
            return f"output of {code(command or cited)} {lines}"
        if not self.head_sha or (kind, cited, start, end) in self.invalid:
            return f"{code(cited)} {lines}"
        return f"[{cited} {lines}]({self.target.file_url(self.head_sha, cited, start, end)})"


def _key(citation: dict[str, Any]) -> CitationKey:
    kind, target = str(citation["kind"]), str(citation["target"])
    return kind, target, int(citation["start"]), int(citation["end"])


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


def summary(answer: str, references: References) -> str:
    """The agent's answer with each citation written for people, in parentheses."""
    answer = answer.strip()[:MAX_ANSWER_CHARS]
    pieces: list[str] = []
    end = 0
    for citation in parse_citations(answer):
        pieces.append(answer[end : citation.offset])
        cited = references.write(citation.kind, citation.target, citation.start, citation.end)
        pieces.append(f"({cited})")
        end = citation.offset + len(citation.raw)
    pieces.append(answer[end:])
    return "".join(pieces)


def checks_section(evidence: Evidence) -> str:
    """The test and check commands the agent ran, each with its stored outcome."""
    lines = ["### Checks", "", CHECKS_VERDICT[evidence.checks_pass], ""]
    for run in evidence.checks[-MAX_LISTED:]:
        lines.append(f"- {check_line(run)}")
    if len(evidence.checks) > MAX_LISTED:
        lines.append(f"- … and {len(evidence.checks) - MAX_LISTED} earlier runs")
    if evidence.warning:
        lines += ["", f"> **Warning:** {evidence.warning}"]
    return "\n".join(lines).rstrip()


def check_line(run: CheckRun) -> str:
    mark = OUTCOME_MARKS[run.outcome]
    exit_code = f" (exit {run.exit_code})" if run.exit_code is not None else ""
    return f"{mark} {code(run.command)} — {run.outcome}{exit_code}"


def citations_section(citations: list[dict[str, Any]], references: References) -> str:
    """Every citation of the answer with its verification; invalid ones say why."""
    if not citations:
        return ""
    lines = ["### Citations", ""]
    for citation in citations[:MAX_LISTED]:
        cited = references.write(*_key(citation))
        if citation.get("valid"):
            lines.append(f"- ✓ {cited}")
        else:
            lines.append(f"- ✗ invalid: {cited} — {citation.get('reason', '')}")
    return "\n".join(lines)


def task_section(record: TaskRecord) -> str:
    """What was asked, and by which task."""
    prompt = record.prompt.strip()[:MAX_PROMPT_CHARS]
    quoted = "\n".join(f"> {line}" for line in prompt.splitlines())
    return f"### Task\n\n{quoted}\n\n---\nOpened by taskyard from task `{record.id}`."
