"""The lines the paced service prints and the names both sides of board_stream use.

Kept apart from benchmarks/paced_service.py so that a board process imports no engine module
beyond what the board itself imports.
"""

from __future__ import annotations

from pathlib import Path

from engine.paths import Paths

BIG_TASK_LINES = 50_000
STAMP = "@"
"""Marks the production time in a line: `[task 00] 0000042 @1733079000.123456 ...`."""


def home_paths(home: Path) -> Paths:
    return Paths(config_dir=home / "config", state_dir=home / "state")


def task_id_of(task: int) -> str:
    return f"bench{task:03d}"


def line_prefix(task: int, number: int) -> str:
    return f"[task {task:02d}] {number:07d}"


def output_line(task: int, number: int, produced_at: float) -> str:
    """A build-log line stamped with its production time; every tenth is a coloured result."""
    prefix = f"{line_prefix(task, number)} {STAMP}{produced_at:.6f}"
    if number % 10 == 0:
        return f"{prefix} tests/test_module_{number % 97}.py \x1b[32mPASSED\x1b[0m\n"
    return f"{prefix} compiling src/module_{number % 997}.py ... ok\n"
