"""What the demo model reads in a conversation: the task, the commands it ran with their real
output, the patches it sent, and the unittest failures in that output."""

from __future__ import annotations

import json
import re
import shlex
from dataclasses import dataclass, field

from engine.models.base import AssistantMessage, ConversationItem, ToolCall, ToolResult, UserMessage

DEFAULT_TEST_COMMAND = ("python3", "-m", "unittest", "-v")
_TEST_COMMAND = re.compile(r"`(python3? -m unittest[^`]*)`")
_REPO_DIR = re.compile(r"repository at (/\S+?),")
_HEADER = re.compile(r"^(\w+): (.*)$")
_FAILURE = re.compile(r"^(?:FAIL|ERROR): (?P<test>\w+) \((?P<where>[\w.]+)\)")
_FRAME = re.compile(r'^\s*File "(?P<path>[^"]+)", line (?P<line>\d+), in (?P<function>\w+)')
_ERROR = re.compile(r"^(?P<error>\w+(?:Error|Exception)): (?P<message>.*)$")
_RAN = re.compile(r"^Ran (?P<count>\d+) tests? in ")
_NUMBERED = re.compile(r"^\s*\d+\t")


@dataclass(frozen=True)
class Run:
    """One shell command the model ran, and what came back."""

    command: tuple[str, ...]
    chunk_id: str
    exit_code: int | None
    lines: tuple[str, ...]
    """The command's output as the model sees it, line 1 first."""

    @property
    def passed(self) -> bool:
        return self.exit_code == 0

    def first_line(self, pattern: re.Pattern[str], start: int = 1) -> int | None:
        """The number of the first output line from `start` on that matches, or None."""
        for number in range(start, len(self.lines) + 1):
            if pattern.search(self.lines[number - 1]):
                return number
        return None

    def cite(self, start: int, end: int | None = None) -> str:
        """A citation of output lines start to end."""
        end = start if end is None else end
        lines = f"L{start}" if end == start else f"L{start}-L{end}"
        return f"【{self.chunk_id}†{lines}】"


@dataclass(frozen=True)
class Failure:
    """A failing test in unittest's output, and where the output shows it."""

    test: str
    path: str
    """The test's file, relative to the repository."""
    error: str
    """The last line of its traceback, e.g. `AssertionError: -360.0 != 36.0`."""
    first: int
    last: int
    """The output lines from its `FAIL:` header to that last line."""


@dataclass
class Transcript:
    """The current turn of a conversation: from the last user message on."""

    prompt: str
    follow_up: bool
    test_command: tuple[str, ...] = DEFAULT_TEST_COMMAND
    repo_dir: str = "/workspace/repo"
    runs: list[Run] = field(default_factory=list)
    patches: list[str] = field(default_factory=list)
    """What each apply_patch call returned."""

    @classmethod
    def read(cls, instructions: str, conversation: list[ConversationItem]) -> Transcript:
        prompts = [n for n, item in enumerate(conversation) if isinstance(item, UserMessage)]
        start = prompts[-1] if prompts else 0
        prompt = conversation[start]
        transcript = cls(
            prompt=prompt.text if isinstance(prompt, UserMessage) else "",
            follow_up=len(prompts) > 1,
            test_command=test_command(instructions),
            repo_dir=repo_dir(instructions),
        )
        calls: dict[str, ToolCall] = {}
        for item in conversation[start:]:
            if isinstance(item, AssistantMessage):
                calls.update((call.call_id, call) for call in item.tool_calls)
            elif isinstance(item, ToolResult) and item.call_id in calls:
                transcript.take(calls[item.call_id], item.output)
        return transcript

    def take(self, call: ToolCall, output: str) -> None:
        """Note one call and its result."""
        arguments = json.loads(call.arguments or "{}")
        if call.name == "apply_patch":
            self.patches.append(output)
        elif call.name == "shell":
            self.runs.append(parse_run(tuple(arguments.get("command", ())), output))

    def first_run(self, command: tuple[str, ...]) -> Run | None:
        return next((run for run in self.runs if run.command == command), None)

    def last_run(self, command: tuple[str, ...]) -> Run | None:
        return next((run for run in reversed(self.runs) if run.command == command), None)

    def file(self, path: str) -> list[str] | None:
        """The lines of a file the model read with `cat -n`, or None when it did not."""
        run = self.last_run(cat(path))
        if run is None or not run.passed:
            return None
        return [_NUMBERED.sub("", line, count=1) for line in run.lines]

    def relative(self, path: str) -> str:
        """A sandbox path relative to the repository."""
        return path.removeprefix(self.repo_dir.rstrip("/") + "/")


def cat(path: str) -> tuple[str, ...]:
    """The command that shows a file with its line numbers."""
    return ("cat", "-n", path)


def test_command(instructions: str) -> tuple[str, ...]:
    """The unittest command the repository's AGENTS.md names, else the usual one."""
    match = _TEST_COMMAND.search(instructions)
    return tuple(shlex.split(match.group(1))) if match else DEFAULT_TEST_COMMAND


def repo_dir(instructions: str) -> str:
    match = _REPO_DIR.search(instructions)
    return match.group(1) if match else "/workspace/repo"


def parse_run(command: tuple[str, ...], output: str) -> Run:
    """A shell result: `chunk_id`, `exit_code` and `duration` lines, then `output (N lines):`
    and the output; a refused call has no chunk id and no exit code."""
    header: dict[str, str] = {}
    lines = output.split("\n")
    while lines and (match := _HEADER.match(lines[0])) and not lines[0].startswith("output"):
        header[match.group(1)] = match.group(2)
        lines.pop(0)
    body = lines[1:] if lines and lines[0].startswith("output") else []
    if body and body[-1] == "":
        body.pop()
    code = header.get("exit_code", "")
    exit_code = int(code) if code.lstrip("-").isdigit() else None
    return Run(command, header.get("chunk_id", ""), exit_code, tuple(body))


def failures(run: Run, transcript: Transcript) -> list[Failure]:
    """The failing tests in a unittest run's output, in order."""
    found: list[Failure] = []
    for number, line in enumerate(run.lines, start=1):
        header = _FAILURE.match(line)
        if header is None:
            continue
        path, last, error = "", number, ""
        for offset, later in enumerate(run.lines[number:], start=number + 1):
            if frame := _FRAME.match(later):
                path = transcript.relative(frame.group("path"))
            elif _ERROR.match(later):
                last, error = offset, later
                break
        found.append(Failure(header.group("test"), path, error, number, last))
    return found


def tests_ran(run: Run) -> tuple[int, int] | None:
    """How many tests a unittest run ran, and the output line that says so."""
    number = run.first_line(_RAN)
    if number is None:
        return None
    match = _RAN.match(run.lines[number - 1])
    assert match is not None
    return int(match.group("count")), number
