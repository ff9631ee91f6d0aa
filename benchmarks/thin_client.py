"""`taskyard tasks` with 100 stored tasks, the whole process, against `python3 -c pass`.

The service is warm (started by a first `taskyard tasks`). Both are run alternately, RUNS times,
with the same interpreter; the figure is the ratio of medians. Goal: at most 5x. It also lists
which of textual, openai and docker the command imported (goal: none).

    .venv/bin/python benchmarks/thin_client.py [--runs 21] [--tasks 100]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engine.paths import Paths
from engine.record.store import Store
from engine.views.task import TaskRecord, TaskStatus

TASKYARD = str(Path(sys.executable).with_name("taskyard"))
HEAVY = ("textual", "openai", "docker")


def store_tasks(paths: Paths, count: int) -> None:
    store = Store(paths.ensure().database)
    now = time.time()
    for n in range(count):
        store.insert_task(
            TaskRecord(
                id=f"{n:08x}",
                created=now - n,
                updated=now - n,
                prompt=f"task number {n}: fix the failing test",
                repo="/work/calc",
                ref="main",
                mode="code",
                environment="default",
                image="taskyard-sandbox:latest",
                status=TaskStatus.READY,
                host="local",
            )
        )
    store.close()


def timed(argv: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run(argv, check=True, capture_output=True, env=env)
    return time.perf_counter() - started


def heavy_imports(env: dict[str, str]) -> list[str]:
    """Which HEAVY packages `taskyard tasks` imports (from -X importtime)."""
    argv = [sys.executable, "-X", "importtime", TASKYARD, "tasks"]
    report = subprocess.run(argv, capture_output=True, text=True, env=env, check=True).stderr
    names = {line.rsplit("|", 1)[-1].strip().split(".")[0] for line in report.splitlines()}
    return [name for name in HEAVY if name in names]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=21)
    parser.add_argument("--tasks", type=int, default=100)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "TASKYARD_HOME": tmp}
        store_tasks(
            Paths(config_dir=Path(tmp) / "config", state_dir=Path(tmp) / "state"), args.tasks
        )
        listed = subprocess.run([TASKYARD, "tasks"], capture_output=True, text=True, env=env)
        rows = len(listed.stdout.splitlines())
        floors, commands = [], []
        for _ in range(args.runs):
            floors.append(timed([sys.executable, "-c", "pass"], env))
            commands.append(timed([TASKYARD, "tasks"], env))
        imported = heavy_imports(env)
        subprocess.run([TASKYARD, "serve", "stop"], capture_output=True, env=env)
    floor, command = statistics.median(floors), statistics.median(commands)
    print(f"runs: {args.runs} (median of each); {args.tasks} tasks stored, {rows} lines listed")
    print(f"floor: python3 -c pass          {floor * 1000:6.0f} ms")
    print(f"taskyard tasks (service warm)   {command * 1000:6.0f} ms")
    print(f"ratio: {command / floor:.2f}x (goal <= 5.00x)")
    print(f"heavy imports: {', '.join(imported) or 'none'} (goal none of {', '.join(HEAVY)})")


if __name__ == "__main__":
    main()
