"""Submit-to-first-agent-command latency vs a bare `docker run --rm IMAGE true` of the same image.

Runs a small repository through the real engine on the local Docker engine with the scripted
model server, measuring from `Engine.submit` to the first `command.started` of the agent phase.
The floor is a bare container start-to-exit of the same image, measured in the same run.
Goal: ratio at most 2x.

    .venv/bin/python benchmarks/first_command.py [--runs N]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engine.api import TaskRequest
from engine.config import DEFAULT_IMAGE
from tests.support.engines import scripted_engine
from tests.support.model_server import Call, Reply, ScriptedModelServer
from tests.support.repos import make_calc_repo


def bare_docker_run(image: str) -> float:
    started = time.perf_counter()
    subprocess.run(["docker", "run", "--rm", image, "true"], check=True, capture_output=True)
    return time.perf_counter() - started


async def first_command(
    home: Path, repo: Path, host: str | None = None, hosts: dict[str, Any] | None = None
) -> float:
    """Seconds from submit to the agent's first command, on `host` (any when None)."""
    script = [Reply(tool_calls=[Call("shell", {"command": ["true"]})]), Reply(text="done")]
    with ScriptedModelServer(script) as server:
        engine = scripted_engine(home, server, hosts=hosts or {})
        subscription = engine.subscribe()
        started = time.perf_counter()
        request = TaskRequest(prompt="run true", repo=str(repo), host=host)
        record = await engine.submit(request)
        async for event in subscription:
            if event.type == "command.started" and event.phase == "agent":
                elapsed = time.perf_counter() - started
                break
        await engine.wait(record.id)
        await engine.close()
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--image", default=DEFAULT_IMAGE)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        repo = make_calc_repo(root / "repo")
        bare_docker_run(args.image)
        asyncio.run(first_command(root / "home", repo))
        floors, firsts = [], []
        for _ in range(args.runs):
            floors.append(bare_docker_run(args.image))
            firsts.append(asyncio.run(first_command(root / "home", repo)))
    floor = statistics.median(floors)
    first = statistics.median(firsts)
    print(f"runs: {args.runs} (median of each; image {args.image})")
    print(f"floor: docker run --rm IMAGE true      {floor * 1000:7.0f} ms")
    print(f"taskyard: submit -> first agent command {first * 1000:7.0f} ms")
    print(f"ratio: {first / floor:.2f}x (goal <= 2.00x)")


if __name__ == "__main__":
    main()
