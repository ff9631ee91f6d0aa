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
    *args: str, env: dict[str, str], cwd: Path | None = None, timeout: float = 600
) -> subprocess.CompletedProcess[str]:
    """Run `taskyard ARGS` and return how it ended, stdout and stderr as text."""
    return subprocess.run(
        [TASKYARD, *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        timeout=timeout,
        check=False,
    )


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
