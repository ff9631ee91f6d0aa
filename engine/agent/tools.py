"""The agent's tools, in the shapes Codex models are trained on: `shell` and `apply_patch`."""

from __future__ import annotations

import json
import posixpath
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from engine.commands import CommandRunner
from engine.events import Event, PatchApplied, ToolCallRejected
from engine.models.base import ToolCall, ToolSpec
from engine.patch import PatchError, apply_patch
from engine.secret_values import Redactor
from sandboxes.base import Sandbox

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


class ToolArgumentError(Exception):
    """The model called a tool with arguments that do not fit its schema."""


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
        return [SHELL, APPLY_PATCH] if self.allow_patch else [SHELL]

    async def call(self, call: ToolCall) -> str:
        """Run one tool call and return what the model should read, secrets redacted."""
        return self.redactor.redact_text(await self._dispatch(call))

    async def _dispatch(self, call: ToolCall) -> str:
        try:
            if call.name == "shell":
                return await self._shell(parse_shell_args(call.arguments))
            if call.name == "apply_patch" and self.allow_patch:
                return await self._patch(parse_patch_args(call.arguments))
            raise ToolArgumentError(f"unknown tool {call.name!r}; use {self._tool_names()}")
        except ToolArgumentError as error:
            return self._reject(call.name, str(error))

    def _tool_names(self) -> str:
        return " or ".join(spec.name for spec in self.specs())

    def _reject(self, tool: str, message: str) -> str:
        self.emit(ToolCallRejected(task_id=self.runner.task_id, tool=tool, error=message))
        return f"error: {message}"

    async def _shell(self, args: ShellArgs) -> str:
        if args.command[0] == "apply_patch" and len(args.command) == 2 and self.allow_patch:
            return await self._patch(args.command[1])
        timeout = self._timeout(args.timeout_ms)
        outcome = await self.runner.run(
            self.sandbox,
            args.command,
            workdir=posixpath.join(self.workdir, args.workdir or ""),
            phase="agent",
            timeout=timeout,
            env=self.env,
            user=self.user,
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
