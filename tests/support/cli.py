"""Run the installed `taskyard` console script as a person would."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.support.model_server import ScriptedModelServer

TASKYARD = str(Path(sys.executable).with_name("taskyard"))
"""The console script installed beside the interpreter running the tests."""


def run_taskyard(
    *args: str,
    env: dict[str, str],
    cwd: Path | None = None,
    timeout: float = 600,
    command: str = TASKYARD,
) -> subprocess.CompletedProcess[str]:
    """Run `taskyard ARGS` (command: another install's) and return how it ended, stdout and
    stderr as text."""
    return subprocess.run(
        [command, *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        timeout=timeout,
        check=False,
    )


def run_doctor(
    env: dict[str, str], cwd: Path | None = None, command: str = TASKYARD
) -> tuple[subprocess.CompletedProcess[str], dict[str, str]]:
    """Run `taskyard doctor`; its result and each line by step: "✓ detail" or "✗ detail"."""
    result = run_taskyard("doctor", env=env, cwd=cwd, timeout=120, command=command)
    assert "Traceback" not in result.stdout + result.stderr
    lines: dict[str, str] = {}
    for line in result.stdout.splitlines():
        mark, rest = line[0], line[2:]
        step, _, detail = rest.partition("  ")
        lines[step.strip()] = f"{mark} {detail.strip()}"
    return result, lines


def doctor_env(root: Path, server: ScriptedModelServer, model: str) -> dict[str, str]:
    """A fresh TASKYARD_HOME under root, no Docker contexts, the scripted model and its key
    (`test-key`), and no other OPENAI_ or TASKYARD_ variable."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "TASKYARD_"))}
    (root / "docker-config").mkdir()
    return {
        **clean,
        "TASKYARD_HOME": str(root / "home"),
        "DOCKER_CONFIG": str(root / "docker-config"),
        "OPENAI_API_KEY": "test-key",
        "OPENAI_BASE_URL": server.base_url,
        "TASKYARD_MODEL": model,
    }


def model_env(server: ScriptedModelServer, home: Path, wire_api: str) -> dict[str, str]:
    """The environment of a `taskyard` whose state is under `home` and whose model is `server`."""
    return {
        **os.environ,
        "TASKYARD_HOME": str(home),
        "OPENAI_API_KEY": "test-key",
        "OPENAI_BASE_URL": server.base_url,
        "TASKYARD_WIRE_API": wire_api,
        "TASKYARD_MODEL": "scripted-codex",
    }


def stop_service(env: dict[str, str]) -> None:
    """Stop the service of env's TASKYARD_HOME: the next command starts one with its own env."""
    stopped = run_taskyard("serve", "stop", env=env, timeout=60)
    assert stopped.returncode == 0, stopped.stdout + stopped.stderr
