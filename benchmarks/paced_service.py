"""The service side of benchmarks/board_stream.py, in its own process as taskyard runs it.

Opens an Engine on the FakeBackend for the TASKYARD home given, inserts `tasks` + 1 running
tasks and serves the engine on its state dir's socket (engine.service.server.Service). Prints
one JSON line `{"ready": [task ids]}`, then waits for `go` on stdin: every task runs one command
through the engine's CommandRunner, so each chunk is in the command's log file before its
OutputChunk is announced. A paced stand-in for the sandbox prints `rate` lines/s for `seconds`
(the last task: BIG_TASK_LINES lines in the first half). Each line carries the time.time() at
which it was produced (`@1733079000.123456`). When every command has ended it prints
`{"produced": lines, "logs": [log paths], "cpu": seconds, "stalls": [[lag, at], ...]}` (its
loop's three latest 10 ms ticks) and serves on until `stop` or end of input.

    .venv/bin/python benchmarks/paced_service.py HOME [--tasks 20] [--rate 2000] [--seconds 10]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from stream_lines import BIG_TASK_LINES, home_paths, output_line, task_id_of  # type: ignore[import-not-found]

from engine.api import Engine
from engine.config import Config
from engine.run.commands import CommandRunner
from engine.views.task import TaskRecord
from sandboxes.base import ExecResult, OutputCallback
from sandboxes.fake import FakeBackend
from tests.support.service import served

CHUNK_INTERVAL = 0.02
TICK_INTERVAL = 0.01


class PacedSandbox:
    """Stands in for a sandbox whose command prints `lines` build-log lines over `seconds`."""

    def __init__(self, task: int, lines: int, seconds: float) -> None:
        self.task, self.lines, self.seconds = task, lines, seconds

    async def exec(self, argv: list[str], *, on_output: OutputCallback, **_: Any) -> ExecResult:
        produced, started = 0, time.perf_counter()
        while produced < self.lines:
            elapsed = time.perf_counter() - started
            due = min(self.lines, int(elapsed / self.seconds * self.lines))
            if due > produced:
                now = time.time()
                text = "".join(output_line(self.task, n, now) for n in range(produced, due))
                on_output(text.encode())
                produced = due
            await asyncio.sleep(CHUNK_INTERVAL)
        return ExecResult(0, False, time.perf_counter() - started)


def insert_running_task(engine: Engine, task: int, repo: Path) -> str:
    """A running task owned by this process, as the engine records it when it starts."""
    task_id, now, image = task_id_of(task), time.time(), engine.config.sandbox.image
    prompt, owner = f"Build and test module {task}", str(os.getpid())
    record = TaskRecord(
        task_id, now, now, prompt, str(repo), "main", "code", "default", image, "running"
    )
    engine.store.insert_task(replace(record, owner=owner))
    return task_id


async def run_command(engine: Engine, task_id: str, sandbox: PacedSandbox) -> int:
    """One command through CommandRunner, as the agent runs it; return the lines produced."""
    head, tail = engine.config.agent.output_head_lines, engine.config.agent.output_tail_lines
    runner = CommandRunner(
        task_id, engine.store, engine.bus.emit, engine.paths.logs_dir, head, tail
    )
    argv = ["make", "-j8", "test"]
    await runner.run(sandbox, argv, workdir="/workspace", phase="agent", timeout=600)  # type: ignore[arg-type]
    return sandbox.lines


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def loop_lags(stop: asyncio.Event) -> list[tuple[float, float]]:
    """How late each 10 ms tick of this loop is served, with when (s since the start)."""
    started = time.perf_counter()
    due, lags = started + TICK_INTERVAL, []
    while not stop.is_set():
        await asyncio.sleep(max(0.0, due - time.perf_counter()))
        now = time.perf_counter()
        lags.append((now - due, now - started))
        due = max(due + TICK_INTERVAL, now)
    return lags


def say(message: dict[str, Any]) -> None:
    print(json.dumps(message), flush=True)


async def read_line() -> str:
    """The next line of stdin without blocking the loop; "" at end of input."""
    return (await asyncio.to_thread(sys.stdin.readline)).strip()


async def stream_all(engine: Engine, task_ids: list[str], args: argparse.Namespace) -> int:
    """Every task's command at once, the big one in the first half; return the lines."""
    lines = int(args.rate * args.seconds)
    sandboxes = [PacedSandbox(task, lines, args.seconds) for task in range(len(task_ids) - 1)]
    sandboxes.append(PacedSandbox(len(task_ids) - 1, BIG_TASK_LINES, args.seconds / 2))
    commands = [run_command(engine, *pair) for pair in zip(task_ids, sandboxes, strict=True)]
    return sum(await asyncio.gather(*commands))


async def serve(args: argparse.Namespace) -> None:
    home = args.home
    engine = Engine(home_paths(home), Config(), backend=FakeBackend(home / "sandboxes"))
    task_ids = [insert_running_task(engine, task, home / "repo") for task in range(args.tasks + 1)]
    async with served(engine):
        say({"ready": task_ids})
        if await read_line() != "go":
            return
        cpu_before, stop = cpu_seconds(), asyncio.Event()
        lags = asyncio.create_task(loop_lags(stop))
        produced = await stream_all(engine, task_ids, args)
        cpu = cpu_seconds() - cpu_before
        stop.set()
        stalls = sorted(await lags, reverse=True)[:3]
        logs = [command.log_path for task_id in task_ids for command in engine.commands(task_id)]
        say({"produced": produced, "logs": logs, "cpu": cpu, "stalls": stalls})
        while await read_line() not in ("stop", ""):
            pass


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("home", type=Path, help="the TASKYARD home (config and state dirs)")
    parser.add_argument("--tasks", type=int, default=20)
    parser.add_argument("--rate", type=int, default=2000, help="lines per second per task")
    parser.add_argument("--seconds", type=float, default=10.0)
    asyncio.run(serve(parser.parse_args()))


if __name__ == "__main__":
    main()
