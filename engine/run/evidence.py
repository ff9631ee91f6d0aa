"""What a result can be checked against: the test and check commands the agent ran, with their
real exit codes, whether its answer claims a success those runs contradict, and its citations.

Every mark comes from the stored command records, never from the model's words.
"""

from __future__ import annotations

import re
import shlex

from engine.views.result import CheckRun, Evidence
from engine.views.task import CommandRecord, TaskRecord

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
