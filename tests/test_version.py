"""`taskyard --version`: the installed package's version, and nothing else."""

from __future__ import annotations

import os
from importlib.metadata import version
from pathlib import Path

from tests.support.cli import run_taskyard


def test_version_is_the_installed_packages(tmp_path: Path) -> None:
    env = {**os.environ, "TASKYARD_HOME": str(tmp_path / "home")}
    result = run_taskyard("--version", env=env)
    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout == f"taskyard {version('taskyard')}\n"
    assert not (tmp_path / "home").exists(), "--version starts no service and writes nothing"
