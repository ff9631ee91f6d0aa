"""The secret canary figure, and what ending setup's processes costs.

Runs the canary task of tests/test_secrets_docker.py on the local Docker engine with the scripted
model server: setup echoes the secret (raw, base64, URL-encoded, JSON-escaped, split across two
writes), writes it into the repository and outside it, and leaves a background process and a
setsid, double-forked one. Prints the canary's hits in every place taskyard keeps or sends
something (goal: 0 everywhere).

Then measures the reaping: restarting a sandbox whose setup left processes running, and checking
that none of them remains, against a floor of `docker run --rm IMAGE true` measured
in the same run. Also prints the time the canary task spent between the end of setup and the start
of the agent phase (reaping, keeping setup's files out of the result, cutting the network).

    .venv/bin/python benchmarks/secret_canary.py [--runs N]
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

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engine.config import DEFAULT_IMAGE
from engine.run.setup_leftovers import end_setup_processes, setup_mark
from sandboxes.base import MANAGED_LABEL, SandboxSpec
from sandboxes.docker import DockerBackend
from tests.support.canary import CanaryRun, canary_counts, print_counts, run_canary

LEAVE_PROCESSES = (
    "sleep 300 >/dev/null 2>&1 & "
    "setsid sh -c 'sleep 300 >/dev/null 2>&1 & exit 0' >/dev/null 2>&1 & "
    "nohup sh -c 'trap \"\" TERM; sleep 300' >/dev/null 2>&1 &"
)


def bare_docker_run(image: str) -> float:
    started = time.perf_counter()
    subprocess.run(["docker", "run", "--rm", image, "true"], check=True, capture_output=True)
    return time.perf_counter() - started


async def reaping(image: str) -> float:
    """Seconds to end the processes a setup left in a fresh sandbox, check included."""
    backend = DockerBackend()
    sandbox = await backend.create(
        SandboxSpec(image=image, labels={MANAGED_LABEL: "true", "dev.taskyard.bench": "1"})
    )
    try:
        mark = setup_mark()
        await sandbox.exec(["sh", "-c", LEAVE_PROCESSES], env=mark, timeout=30)
        started = time.perf_counter()
        await end_setup_processes(sandbox, mark)
        return time.perf_counter() - started
    finally:
        await sandbox.remove()


def setup_to_agent(run: CanaryRun) -> float:
    """Seconds from the end of the setup command to the task's running status."""
    setup_end = next(
        event.ts
        for event in run.events
        if event.type == "command.finished" and event.command[-1].endswith("setup.out")
    )
    running = next(
        event.ts
        for event in run.events
        if event.type == "task.status" and event.status == "running"
    )
    return running - setup_end


async def canary_figure(root: Path) -> float:
    run = await run_canary(root)
    try:
        assert run.record.status == "ready", run.record.error
        branch, _ = await run.engine.apply(run.record.id)
        print(f"canary task {run.record.id}: hits of the canary, every form counted")
        print_counts(canary_counts(run, branch))
        return setup_to_agent(run)
    finally:
        await run.engine.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--image", default=DEFAULT_IMAGE)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        between = asyncio.run(canary_figure(Path(tmp)))
    bare_docker_run(args.image)
    floors, reaps = [], []
    for _ in range(args.runs):
        floors.append(bare_docker_run(args.image))
        reaps.append(asyncio.run(reaping(args.image)))
    floor, reap = statistics.median(floors), statistics.median(reaps)
    print()
    print(f"runs: {args.runs} (median of each; image {args.image})")
    print(f"floor: docker run --rm IMAGE true             {floor * 1000:7.0f} ms")
    print(f"reaping: restart + check, 3 processes left    {reap * 1000:7.0f} ms")
    print(f"ratio: {reap / floor:.2f}x")
    print(f"canary task, end of setup -> agent phase      {between * 1000:7.0f} ms")


if __name__ == "__main__":
    main()
