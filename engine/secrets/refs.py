"""Secret references in the config, resolved on the host when a task starts.

A value in an environment's `secrets` table is either a reference or a literal:
`env:NAME` reads the host's environment variable, `file:PATH` a file (`~` expanded, trailing
line break dropped), `cmd:COMMAND` what a command prints (run without a shell, without a
terminal to prompt on, with a timeout). Anything else is the value itself.
"""

from __future__ import annotations

import os
import shlex
import subprocess
from pathlib import Path
from typing import TYPE_CHECKING

from engine.secrets.values import MIN_SECRET_LENGTH, Secret

if TYPE_CHECKING:
    from engine.config import Environment

ENV_PREFIX = "env:"
FILE_PREFIX = "file:"
CMD_PREFIX = "cmd:"
REFERENCE_PREFIXES = (ENV_PREFIX, FILE_PREFIX, CMD_PREFIX)
CMD_TIMEOUT_SECONDS = 30.0
MAX_PROBLEM_CHARS = 200


class SecretReferenceError(Exception):
    """A secret cannot be resolved; the message names the environment, the key and the reason."""


class _Unresolved(Exception):
    """Why one reference gives no value."""


def is_reference(value: str) -> bool:
    """Whether a configured secret value is a reference rather than the value itself."""
    return value.startswith(REFERENCE_PREFIXES)


def resolve_secrets(environment_name: str, environment: Environment) -> list[Secret]:
    """Every secret of the environment with its value, in config order.

    Raises SecretReferenceError naming the environment and the key when one cannot be resolved.
    """
    return [
        resolve_secret(environment_name, name, configured)
        for name, configured in environment.secrets.items()
    ]


def resolve_secret(environment_name: str, name: str, configured: str) -> Secret:
    """One secret's value, from its reference or as the literal it is."""
    shown = configured if is_reference(configured) else "(literal value)"
    try:
        value = _resolve(configured)
        _check_length(value)
    except _Unresolved as problem:
        raise SecretReferenceError(
            f"environment {environment_name}: secret {name} = {shown}: {problem}"
        ) from None
    return Secret(name, value)


def resolve_reference(key: str, reference: str) -> str:
    """The non-empty value a reference gives, with no length rule (that one is for setup's
    secrets, which are redacted from text); SecretReferenceError naming `key` and the reason."""
    if not is_reference(reference):
        raise SecretReferenceError(f'{key} must be "env:NAME", "file:PATH" or "cmd:COMMAND"')
    try:
        value = _resolve(reference)
    except _Unresolved as problem:
        raise SecretReferenceError(f'{key} = "{reference}": {problem}') from None
    if not value.strip():
        raise SecretReferenceError(f'{key} = "{reference}": it gives an empty value')
    return value


def _resolve(configured: str) -> str:
    if configured.startswith(ENV_PREFIX):
        return _from_env(configured.removeprefix(ENV_PREFIX))
    if configured.startswith(FILE_PREFIX):
        return _from_file(configured.removeprefix(FILE_PREFIX))
    if configured.startswith(CMD_PREFIX):
        return _from_command(configured.removeprefix(CMD_PREFIX))
    return configured


def _check_length(value: str) -> None:
    if len(value) < MIN_SECRET_LENGTH:
        raise _Unresolved(
            f"the value has {len(value)} characters; secrets need at least "
            f"{MIN_SECRET_LENGTH} (shorter ones would be redacted from ordinary text)"
        )


def _from_env(variable: str) -> str:
    value = os.environ.get(variable)
    if value is None:
        raise _Unresolved(f"{variable} is not set: export it before taskyard starts")
    return value


def _from_file(path: str) -> str:
    location = Path(path).expanduser()
    try:
        text = location.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise _Unresolved(f"{location} does not exist") from None
    except (OSError, UnicodeDecodeError) as error:
        raise _Unresolved(f"{location} cannot be read: {error}") from None
    return text.removesuffix("\n").removesuffix("\r")


def _from_command(command: str) -> str:
    try:
        argv = shlex.split(command)
    except ValueError as error:
        raise _Unresolved(f"the command cannot be parsed: {error}") from None
    if not argv:
        raise _Unresolved("the command is empty")
    completed = _run(argv)
    if completed.returncode != 0:
        raise _Unresolved(
            f"the command exited with {completed.returncode}: {_last_line(completed.stderr)}"
        )
    return completed.stdout.removesuffix("\n").removesuffix("\r")


def _run(argv: list[str]) -> subprocess.CompletedProcess[str]:
    """Run argv with no stdin and no controlling terminal, so it cannot wait on a prompt."""
    try:
        return subprocess.run(
            argv,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=CMD_TIMEOUT_SECONDS,
            start_new_session=True,
            check=False,
        )
    except FileNotFoundError:
        raise _Unresolved(f"{argv[0]} is not installed or not on PATH") from None
    except subprocess.TimeoutExpired:
        raise _Unresolved(f"the command did not finish within {CMD_TIMEOUT_SECONDS:g}s") from None
    except OSError as error:
        raise _Unresolved(f"the command cannot run: {error}") from None


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return lines[-1][:MAX_PROBLEM_CHARS] if lines else "(it printed no error)"
