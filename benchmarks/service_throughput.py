"""50 tasks through the service on one host with max_tasks = 8, against plain `docker run`.

Each task's agent runs one command (COMMAND: prints a line every 0.1 s for SECONDS) and then
answers. The floor runs the same command in 50 `docker run --rm` containers of the same image,
8 at a time, in the same run. Throughput is tasks per minute; the figure is taskyard's throughput
as a share of the floor's. Goal: all 50 finish ready, and the share is at least 80%.

    .venv/bin/python benchmarks/service_throughput.py [--tasks 50] [--seconds 20]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engine.config import DEFAULT_IMAGE
from engine.paths import Paths
from engine.service.client import ServiceClient
from engine.views.request import TaskRequest
from engine.views.task import TaskStatus
from tests.support.cli import model_env
from tests.support.model_server import Call, Reply, ScriptedModelServer
from tests.support.repos import make_calc_repo

CONCURRENCY = 8


def command(seconds: float) -> str:
    lines = int(seconds * 10)
    return f"for i in $(seq 1 {lines}); do echo line $i; sleep 0.1; done"


def plain_docker(image: str, tasks: int, seconds: float) -> float:
    """Seconds for `tasks` containers running the command, CONCURRENCY at a time."""

    def one(_: int) -> None:
        argv = ["docker", "run", "--rm", image, "sh", "-c", command(seconds)]
        subprocess.run(argv, check=True, capture_output=True)

    started = time.perf_counter()
    with ThreadPoolExecutor(CONCURRENCY) as pool:
        list(pool.map(one, range(tasks)))
    return time.perf_counter() - started


async def through_service(home: Path, repo: Path, tasks: int, seconds: float) -> tuple[float, int]:
    """Seconds for `tasks` tasks submitted at once to finish, and how many ended ready."""
    script = [Reply(tool_calls=[Call("shell", {"command": ["sh", "-c", command(seconds)]})])]
    conversations = [[*script, Reply(text="done")] for _ in range(tasks)]
    with ScriptedModelServer(conversations=conversations) as server:
        os.environ.update(model_env(server, home, "chat"))
        paths = Paths(config_dir=home / "config", state_dir=home / "state")
        client = await ServiceClient.connect(paths)
        started = time.perf_counter()
        records = await asyncio.gather(
            *(client.submit(TaskRequest(prompt=f"task {n}", repo=str(repo))) for n in range(tasks))
        )
        ended = await asyncio.gather(*(client.wait(record.id) for record in records))
        elapsed = time.perf_counter() - started
        await client.stop()
        await client.close()
    return elapsed, sum(task.status == TaskStatus.READY for task in ended)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--image", default=DEFAULT_IMAGE)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        repo = make_calc_repo(root / "repo")
        floor = plain_docker(args.image, args.tasks, args.seconds)
        elapsed, ready = asyncio.run(through_service(root / "home", repo, args.tasks, args.seconds))
    print(f"tasks: {args.tasks}, {CONCURRENCY} at a time, each command {args.seconds:g} s")
    print(f"floor: docker run --rm          {floor:7.1f} s  {args.tasks / floor * 60:6.1f}/min")
    print(f"taskyard service: submit -> end {elapsed:7.1f} s  {args.tasks / elapsed * 60:6.1f}/min")
    print(f"ready: {ready}/{args.tasks} (goal {args.tasks}/{args.tasks})")
    print(f"throughput: {floor / elapsed:.0%} of the floor (goal >= 80%)")


if __name__ == "__main__":
    main()
