"""What a result can be checked against: the test and check commands the agent ran, with their
real exit codes, whether its answer claims a success those runs contradict, and its citations.

Every mark comes from the stored command records, never from the model's words.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from typing import Any

from engine.record.views import CommandRecord, TaskRecord

CHECK_TOOLS = (
    r"pytest|py\.test|tox|nox|unittest|nose2|ruff|flake8|pylint|mypy|pyright|black|isort|"
    r"jest|vitest|mocha|ava|tsc|eslint|prettier|"
    r"cargo\s+(?:test|check|clippy|fmt|build)|go\s+(?:test|vet|build)|golangci-lint|"
    r"npm\s+(?:run\s+)?(?:test|lint|check|build)|yarn\s+(?:run\s+)?(?:test|lint|check|build)|"
    r"pnpm\s+(?:run\s+)?(?:test|lint|check|build)|"
    r"make\s+(?:test|check|lint)|ctest|mvn\s+(?:test|verify)|gradle\w*\s+(?:test|check)|"
    r"rspec|phpunit|bundle\s+exec\s+(?:rspec|rake)|dotnet\s+test|swift\s+test|shellcheck"
)
_RUNNERS = r"timeout\s+\S+|uv\s+run|poetry\s+run|pipenv\s+run|hatch\s+run|npx|time|env"
_CHECK = re.compile(
    rf"(?:^|[;&|(\n])\s*(?:\w+=\S*\s+)*(?:(?:{_RUNNERS})\s+)*(?:\S*/)?"
    rf"(?:python[\d.]*\s+-m\s+)?(?:{CHECK_TOOLS})(?=$|[\s;&|)])"
)
"""A check tool at the start of a command: after `;`, `&&`, `|`, `(` or a newline, past variable
assignments, runners such as `uv run`, a path and `python -m`."""
_CLAIM = re.compile(
    r"\b(?:all\s+(?:the\s+)?(?:\d+\s+)?tests?\s+(?:now\s+)?pass(?:es|ed|ing)?|"
    r"tests?\s+(?:now\s+|all\s+)?pass(?:es|ed|ing)?|(?:now\s+)?passes\s+(?:all\s+)?(?:the\s+)?tests|"
    r"(?:checks?|lint(?:ing)?|build)\s+(?:now\s+)?(?:pass(?:es|ed)?|succeed(?:s|ed)?|is\s+clean|are\s+clean)|"
    r"everything\s+(?:now\s+)?(?:passes|works)|all\s+green)\b",
    re.IGNORECASE,
)
_NEGATED = re.compile(r"\b(?:not|n't|no longer|never|fail\w*)\W+(?:\w+\W+){0,3}$", re.IGNORECASE)

SHELLS = frozenset({"sh", "bash", "zsh", "dash"})


def command_text(argv: list[str]) -> str:
    """The command as a person reads it: the script of `bash -lc SCRIPT`, else the argv joined."""
    if len(argv) >= 3 and argv[-2] in ("-c", "-lc") and argv[0].rsplit("/", 1)[-1] in SHELLS:
        return argv[-1]
    return shlex.join(argv)


def is_check_command(argv: list[str]) -> bool:
    """Whether the command runs tests, a linter, a type checker or a build."""
    return _CHECK.search(command_text(argv)) is not None


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

    def to_dict(self) -> dict[str, Any]:
        return {
            "checks": [run.to_dict() for run in self.checks],
            "checks_pass": self.checks_pass,
            "claim": self.claim,
            "unsupported_claim": self.unsupported_claim,
            "warning": self.warning,
            "citations_valid": self.citations_valid,
            "citations_invalid": self.citations_invalid,
        }


def success_claim(answer: str) -> str:
    """The first phrase of the answer that claims tests or checks pass; empty when none does."""
    for match in _CLAIM.finditer(answer):
        before = answer[max(0, match.start() - 40) : match.start()]
        if not _NEGATED.search(before):
            return match.group(0)
    return ""


def check_runs(commands: list[CommandRecord]) -> list[CheckRun]:
    """The agent's test and check commands among a task's commands, in order."""
    return [
        CheckRun(
            chunk_id=command.chunk_id,
            command=command_text(command.command),
            exit_code=command.exit_code,
            timed_out=command.timed_out,
        )
        for command in commands
        if command.phase == "agent" and is_check_command(command.command)
    ]


def evidence_for(record: TaskRecord, commands: list[CommandRecord]) -> Evidence:
    """The evidence behind a task's result."""
    valid = sum(1 for citation in record.citations if citation.get("valid"))
    return Evidence(
        checks=check_runs(commands),
        claim=success_claim(record.final_message),
        citations_valid=valid,
        citations_invalid=len(record.citations) - valid,
    )
