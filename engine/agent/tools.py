"""The agent's tools, in the shapes Codex models are trained on: `shell` and `apply_patch`."""

from __future__ import annotations

import dataclasses
import json
import posixpath
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from engine.agent.repair import ABORTED_RESULT, recovery_for
from engine.models.base import AssistantMessage, ToolCall, ToolSpec
from engine.patch import PatchError, apply_patch
from engine.run.commands import CommandOutcome, CommandRunner
from engine.secrets.values import Redactor
from engine.views.events import Event, PatchApplied, ToolCallRejected
from engine.views.task import CommandRecord
from sandboxes.base import RunLost, Sandbox

SHELL = ToolSpec(
    name="shell",
    description=(
        "Runs a command in the task's sandbox and returns its chunk_id, exit code and output "
        '(head and tail when long). Use argv form, e.g. ["bash", "-lc", "pytest -q"].'
    ),
    parameters={
        "type": "object",
        "properties": {
            "command": {
                "type": "array",
                "items": {"type": "string"},
                "description": "The command and its arguments.",
            },
            "workdir": {
                "type": "string",
                "description": "Working directory; relative paths are under the repository.",
            },
            "timeout_ms": {
                "type": "integer",
                "description": "Kill the command after this many milliseconds.",
            },
        },
        "required": ["command"],
        "additionalProperties": False,
    },
)

APPLY_PATCH = ToolSpec(
    name="apply_patch",
    description=(
        "Edits files with a patch in the `*** Begin Patch` format: *** Add File / *** Update "
        "File (optionally *** Move to) / *** Delete File sections, @@ context hunks with ' ', "
        "'-', '+' lines, and *** End Patch. Paths are relative to the repository."
    ),
    parameters={
        "type": "object",
        "properties": {"input": {"type": "string", "description": "The whole patch."}},
        "required": ["input"],
        "additionalProperties": False,
    },
)


def tool_specs(allow_patch: bool) -> list[ToolSpec]:
    """The tools the model is given: the shell, and apply_patch unless the task only asks."""
    return [SHELL, APPLY_PATCH] if allow_patch else [SHELL]


MIB = 1024 * 1024
ARGUMENT_LIMITS = {"shell": MIB, "apply_patch": 8 * MIB}
"""The most bytes of arguments each tool takes; any other tool name takes the shell's."""
ARGUMENT_ADVICE = {
    "shell": "write large content into a file with apply_patch and pass the file's path",
    "apply_patch": "split the change into several smaller patches",
}
MAX_COMMAND_ARGUMENT = 128 * 1024 - 1
"""The longest single argument Linux passes to a program (MAX_ARG_STRLEN, its NUL included)."""


class ToolArgumentError(Exception):
    """The model called a tool with arguments that do not fit its schema."""


def oversized(call: ToolCall) -> str | None:
    """Why a call's arguments are too large to take; None when they fit."""
    limit = ARGUMENT_LIMITS.get(call.name, MIB)
    size = len(call.arguments.encode("utf-8", errors="replace"))
    if size <= limit:
        return None
    advice = ARGUMENT_ADVICE.get(call.name, ARGUMENT_ADVICE["shell"])
    return (
        f"the {call.name[:64]} arguments are {size / MIB:.1f} MiB, over the "
        f"{limit // MIB} MiB limit; nothing was run: {advice}"
    )


def without_oversized_arguments(message: AssistantMessage) -> AssistantMessage:
    """The message as it is kept in the conversation: arguments too large to take are replaced
    by a short note, so they are neither stored nor sent to the model again."""
    calls = tuple(
        dataclasses.replace(call, arguments=json.dumps({"refused": reason}))
        if (reason := oversized(call))
        else call
        for call in message.tool_calls
    )
    return dataclasses.replace(message, tool_calls=calls)


def check_command_arguments(argv: list[str]) -> None:
    """ToolArgumentError when an argument is longer than a program can be given."""
    longest = max(len(argument.encode("utf-8", errors="replace")) for argument in argv)
    if longest > MAX_COMMAND_ARGUMENT:
        raise ToolArgumentError(
            f"one argument of `command` is {longest // 1024} KiB, over the 128 KiB Linux "
            "passes to a program; nothing was run: write it into a file with apply_patch "
            "and pass the file's path"
        )


@dataclass(frozen=True)
class ShellArgs:
    command: list[str]
    workdir: str | None
    timeout_ms: int | None


def _load_object(raw: str) -> dict[str, Any]:
    try:
        value = json.loads(raw or "{}")
    except json.JSONDecodeError as error:
        raise ToolArgumentError(f"arguments are not valid JSON ({error})") from None
    if not isinstance(value, dict):
        raise ToolArgumentError("arguments must be a JSON object")
    return value


def parse_shell_args(raw: str) -> ShellArgs:
    """Validate `shell` arguments: a non-empty argv of strings, optional workdir and timeout."""
    args = _load_object(raw)
    command = args.get("command")
    if not (isinstance(command, list) and command and all(isinstance(a, str) for a in command)):
        raise ToolArgumentError('`command` must be a non-empty array of strings, e.g. ["ls"]')
    workdir = args.get("workdir")
    if workdir is not None and not isinstance(workdir, str):
        raise ToolArgumentError("`workdir` must be a string")
    timeout_ms = args.get("timeout_ms")
    if timeout_ms is not None and (
        isinstance(timeout_ms, bool) or not isinstance(timeout_ms, int) or timeout_ms <= 0
    ):
        raise ToolArgumentError("`timeout_ms` must be a positive integer")
    unknown = set(args) - {"command", "workdir", "timeout_ms"}
    if unknown:
        raise ToolArgumentError(f"unknown arguments: {', '.join(sorted(unknown))}")
    return ShellArgs(command, workdir, timeout_ms)


def parse_patch_args(raw: str) -> str:
    """Validate `apply_patch` arguments: one string `input`."""
    args = _load_object(raw)
    patch = args.get("input")
    if not isinstance(patch, str) or not patch.strip():
        raise ToolArgumentError("`input` must be the patch text, starting with *** Begin Patch")
    return patch


class SandboxPatchFS:
    """The patch applier's file access, on a sandbox, relative to the repository."""

    def __init__(self, sandbox: Sandbox, root: str) -> None:
        self._sandbox = sandbox
        self._root = root

    def _path(self, path: str) -> str:
        return posixpath.join(self._root, path)

    async def read_text(self, path: str) -> str:
        data = await self._sandbox.read_file(self._path(path))
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            raise PatchError(f"{path} is not UTF-8 text; patches edit text files only") from None

    async def write_text(self, path: str, text: str) -> None:
        await self._sandbox.write_file(self._path(path), text.encode("utf-8"))

    async def remove(self, path: str) -> None:
        script = (
            'if [ -d "$1" ]; then exit 2; '
            'elif [ -e "$1" ] || [ -L "$1" ]; then rm -f -- "$1"; '
            "else exit 3; fi"
        )
        result = await self._sandbox.exec(["sh", "-c", script, "sh", self._path(path)])
        if result.exit_code == 2:
            raise IsADirectoryError(path)
        if result.exit_code == 3:
            raise FileNotFoundError(path)


@dataclass
class ToolBox:
    """Dispatches tool calls for one task; every failure goes back to the model as text.

    Patch paths are relative to repo_dir; shell commands start in workdir (relative workdirs
    given by the model are taken from there).
    """

    sandbox: Sandbox
    runner: CommandRunner
    emit: Callable[[Event], None]
    repo_dir: str
    workdir: str
    default_timeout: float
    max_timeout: float
    allow_patch: bool
    user: str | None = None
    env: dict[str, str] | None = None
    redactor: Redactor = field(default_factory=lambda: Redactor(()))
    """Replaces the task's secret values in everything the model reads back."""

    def specs(self) -> list[ToolSpec]:
        return tool_specs(self.allow_patch)

    async def call(self, call: ToolCall) -> str:
        """Run one tool call and return what the model should read, secrets redacted."""
        return self.redactor.redact_text(await self._dispatch(call))

    async def resumed(self, call: ToolCall, command: CommandRecord | None) -> str:
        """The result of a call a stopped process was running, secrets redacted: what `call`
        would have returned, from its command's record or followed to its end in the sandbox;
        the aborted result when that cannot be known."""
        recovery = recovery_for(call, command)
        if recovery == "aborted" or command is None:
            return ABORTED_RESULT
        try:
            timeout = self._timeout(parse_shell_args(call.arguments).timeout_ms)
        except ToolArgumentError:
            return ABORTED_RESULT
        try:
            outcome = await self._resumed_outcome(recovery, command, timeout)
        except RunLost:
            return ABORTED_RESULT
        return self.redactor.redact_text(outcome.report(timeout))

    async def _resumed_outcome(
        self, recovery: str, command: CommandRecord, timeout: float
    ) -> CommandOutcome:
        if recovery == "recorded":
            return self.runner.recorded_outcome(command)
        return await self.runner.reattach(self.sandbox, command, timeout=timeout, user=self.user)

    async def _dispatch(self, call: ToolCall) -> str:
        try:
            if reason := oversized(call):
                raise ToolArgumentError(reason)
            if call.name == "shell":
                return await self._shell(parse_shell_args(call.arguments), call.call_id)
            if call.name == "apply_patch" and self.allow_patch:
                return await self._patch(parse_patch_args(call.arguments))
            raise ToolArgumentError(f"unknown tool {call.name[:64]!r}; use {self._tool_names()}")
        except ToolArgumentError as error:
            return self._reject(call.name, str(error))

    def _tool_names(self) -> str:
        return " or ".join(spec.name for spec in self.specs())

    def _reject(self, tool: str, message: str) -> str:
        self.emit(ToolCallRejected(task_id=self.runner.task_id, tool=tool[:64], error=message))
        return f"error: {message}"

    async def _shell(self, args: ShellArgs, call_id: str) -> str:
        if args.command[0] == "apply_patch" and len(args.command) == 2 and self.allow_patch:
            return await self._patch(args.command[1])
        check_command_arguments(args.command)
        timeout = self._timeout(args.timeout_ms)
        outcome = await self.runner.run(
            self.sandbox,
            args.command,
            workdir=posixpath.join(self.workdir, args.workdir or ""),
            phase="agent",
            timeout=timeout,
            env=self.env,
            user=self.user,
            call_id=call_id,
        )
        return outcome.report(timeout)

    def _timeout(self, timeout_ms: int | None) -> float:
        if timeout_ms is None:
            return self.default_timeout
        return min(timeout_ms / 1000, self.max_timeout)

    async def _patch(self, patch: str) -> str:
        task_id = self.runner.task_id
        try:
            result = await apply_patch(patch, SandboxPatchFS(self.sandbox, self.repo_dir))
        except (PatchError, FileNotFoundError, IsADirectoryError) as error:
            message = str(error) or type(error).__name__
            self.emit(PatchApplied(task_id=task_id, ok=False, summary=message))
            return f"error: patch not applied: {message}"
        summary = result.summary
        self.emit(PatchApplied(task_id=task_id, ok=True, summary=summary))
        return summary
