"""kill -9 of the service while TASKS tasks are each in the middle of a long command.

Each task's agent runs one command that prints LINES numbered lines over SECONDS seconds, then
answers. Once every command has printed a tenth of its lines, the service is killed with SIGKILL;
the next client starts a new one, which takes the tasks up. The figures: tasks that end ready
(goal all), lines lost or doubled against what the commands printed (goal 0), labelled
containers of this store that belong to no task (goal 0), and model requests that carried a tool
call without its result (goal 0).

    .venv/bin/python benchmarks/service_kill.py [--tasks 10] [--lines 400] [--seconds 40]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engine.hosts.gc import HOME_LABEL, TASK_LABEL
from engine.paths import Paths
from engine.service.client import ServiceClient
from engine.views.request import TaskRequest
from engine.views.task import TaskStatus
from tests.support.cli import model_env
from tests.support.model_server import Call, Reply, ScriptedModelServer
from tests.support.repos import make_calc_repo
from tests.support.service import until_output_lines


def command(lines: int, seconds: float) -> str:
    return f"for i in $(seq 1 {lines}); do echo line $i; sleep {seconds / lines:g}; done"


async def agent_lines(client: ServiceClient, task_id: str) -> list[str]:
    commands = [c for c in await client.commands(task_id) if c.phase == "agent"]
    if not commands:
        return []
    return (await client.read_output(task_id, commands[0].chunk_id)).decode().splitlines()


def orphan_containers(paths: Paths, task_ids: set[str]) -> int:
    listing = subprocess.run(
        [
            "docker",
            "ps",
            "-a",
            "--filter",
            f"label={HOME_LABEL}={paths.state_dir}",
            "--format",
            "{{json .Labels}}",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    labels = [
        dict(pair.split("=", 1) for pair in json.loads(line).split(","))
        for line in listing.splitlines()
    ]
    return sum(label.get(TASK_LABEL) not in task_ids for label in labels)


async def measure(home: Path, repo: Path, args: argparse.Namespace) -> dict[str, int]:
    shell = Call("shell", {"command": ["sh", "-c", command(args.lines, args.seconds)]})
    conversations = [[Reply(tool_calls=[shell]), Reply(text="done")] for _ in range(args.tasks)]
    with ScriptedModelServer(conversations=conversations) as server:
        os.environ.update(model_env(server, home, "chat"))
        paths = Paths(config_dir=home / "config", state_dir=home / "state")
        client = await ServiceClient.connect(paths)
        requests = [TaskRequest(prompt=f"task {n}", repo=str(repo)) for n in range(args.tasks)]
        records = await asyncio.gather(*(client.submit(request) for request in requests))
        ids = [record.id for record in records]
        await until_output_lines(client, ids, args.lines // 10)
        pid = (await client.status()).pid
        os.kill(pid, signal.SIGKILL)
        await client.close()
        killed_at = time.monotonic()
        client = await ServiceClient.connect(paths)
        ended = await asyncio.gather(*(client.wait(task_id) for task_id in ids))
        took = time.monotonic() - killed_at
        expected = [f"line {n}" for n in range(1, args.lines + 1)]
        outputs = [await agent_lines(client, task_id) for task_id in ids]
        await client.stop()
        await client.close()
        rejected = len(server.rejections)
        server.rejections.clear()
    return {
        "ready": sum(task.status == TaskStatus.READY for task in ended),
        "lost": sum(len(set(expected) - set(lines)) for lines in outputs),
        "doubled": sum(len(lines) - len(set(lines)) for lines in outputs),
        "orphans": orphan_containers(paths, set(ids)),
        "unanswered": rejected,
        "seconds_after_kill": round(took),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=10)
    parser.add_argument("--lines", type=int, default=400)
    parser.add_argument("--seconds", type=float, default=40.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        repo = make_calc_repo(Path(tmp) / "repo")
        figures = asyncio.run(measure(Path(tmp) / "home", repo, args))
    total = args.tasks * args.lines
    print(
        f"{args.tasks} tasks, each printing {args.lines} lines over {args.seconds:g} s; "
        "the service killed with SIGKILL a tenth of the way in"
    )
    print(
        f"tasks ready:                        {figures['ready']}/{args.tasks} "
        f"(goal {args.tasks}/{args.tasks})"
    )
    print(f"lines lost:                         {figures['lost']} of {total} (goal 0)")
    print(f"lines doubled:                      {figures['doubled']} (goal 0)")
    print(f"containers without a task:          {figures['orphans']} (goal 0)")
    print(f"requests with an unanswered call:   {figures['unanswered']} (goal 0)")
    print(f"kill to all ended:                  {figures['seconds_after_kill']} s")


if __name__ == "__main__":
    main()
