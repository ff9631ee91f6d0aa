"""Run the installed `taskyard` console script as a person would."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

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
