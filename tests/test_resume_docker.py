"""A task survives the death of the process that ran it: another engine takes it up where it was.

The first engine runs in a process of its own (`tests/support/crashing_engine.py`) and is killed
with SIGKILL; the scripted model server lives in the test, so it sees the requests of both.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import docker
import pytest

from engine.api import Engine
from engine.record.bus import Subscription
from engine.run.runner import CONTAINER_GONE, SETUP_INTERRUPTED
from engine.views.events import OutputChunk
from engine.views.task import CommandRecord, TaskStatus
from tests.support.engines import scripted_engine
from tests.support.model_server import Call, Reply, ScriptedModelServer
from tests.support.repos import make_calc_repo

pytestmark = pytest.mark.usefixtures("docker_available")

ROOT = Path(__file__).resolve().parents[1]
LINES = 30
NUMBERED_LINES = [
    "bash",
    "-c",
    f"for i in $(seq 1 {LINES}); do echo line $i; sleep 0.2; done; exit 3",
]
EXPECTED_LOG = "".join(f"line {number}\n" for number in range(1, LINES + 1)).encode()
READY_TIMEOUT = 180.0
STALE_AFTER = 0.1
"""The lease threshold of the resuming engine: the killed one renewed its lease seconds ago."""


async def crash_engine(
    home: Path,
    server: ScriptedModelServer,
    repo: Path,
    prompts: list[str],
    ready_when: str = "output",
    config: dict[str, Any] | None = None,
    host: str | None = None,
) -> None:
    """Run the tasks in another process and kill it with SIGKILL once they got `ready_when`."""
    spec = {
        "home": str(home),
        "base_url": server.base_url,
        "repo": str(repo),
        "prompts": prompts,
        "ready_when": ready_when,
        "config": config or {},
        "host": host,
    }
    command = [sys.executable, "-m", "tests.support.crashing_engine", json.dumps(spec)]
    errors = (home.parent / "crashing-engine.err").open("w")
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=errors, text=True)
    try:
        assert process.stdout is not None
        line = await asyncio.wait_for(asyncio.to_thread(process.stdout.readline), READY_TIMEOUT)
        assert line == "ready\n", (home.parent / "crashing-engine.err").read_text()
    finally:
        process.kill()
        process.wait()
        errors.close()


async def resumed(engine: Engine, count: int) -> list[str]:
    """Take up the killed engine's tasks and wait until each has ended."""
    taken = await engine.resume_tasks(stale_after=STALE_AFTER)
    assert len(taken) == count
    for task_id in taken:
        await engine.wait(task_id)
    return taken


def shell_conversation(number: int) -> list[Reply]:
    return [
        Reply(tool_calls=[Call("shell", {"command": NUMBERED_LINES})]),
        Reply(text=f"counted {number}"),
    ]


def agent_commands(engine: Engine) -> list[CommandRecord]:
    tasks = engine.tasks()
    return [c for task in tasks for c in engine.commands(task.id) if c.phase == "agent"]


def published_output(subscription: Subscription) -> dict[str, str]:
    """The output each command announced to the subscription, by chunk id."""
    texts: dict[str, str] = {}
    while not subscription.queue.empty():
        event = subscription.queue.get_nowait()
        if isinstance(event, OutputChunk):
            texts[event.chunk_id] = texts.get(event.chunk_id, "") + event.text
    subscription.close()
    return texts


async def test_tasks_killed_mid_command_are_resumed_and_their_commands_reattached(
    tmp_path: Path,
) -> None:
    repo = make_calc_repo(tmp_path / "calc")
    home = tmp_path / "home"
    conversations = [shell_conversation(number) for number in range(3)]
    with ScriptedModelServer(conversations=conversations) as server:
        await crash_engine(home, server, repo, [f"count {n}" for n in range(3)])
        before = len(server.requests)
        engine = scripted_engine(home, server)
        shown = {c.chunk_id: Path(c.log_path).stat().st_size for c in agent_commands(engine)}
        subscription = engine.subscribe()
        taken = await resumed(engine, 3)
        after = server.requests[before:]
    published = published_output(subscription)
    assert before == 3 and len(after) == 3
    for task_id in taken:
        task = engine.task(task_id)
        assert task.status is TaskStatus.READY, task.error
        [command] = [c for c in engine.commands(task_id) if c.phase == "agent"]
        assert command.exit_code == 3 and not command.timed_out
        assert Path(command.log_path).read_bytes() == EXPECTED_LOG
        assert command.output_lines == LINES and command.output_bytes == len(EXPECTED_LOG)
        assert 0 < shown[command.chunk_id] < len(EXPECTED_LOG)
        assert published[command.chunk_id] == EXPECTED_LOG[shown[command.chunk_id] :].decode()
        assert task.final_message.startswith("counted ")
    for request in after:
        assert request.unanswered_call() is None
        [output] = request.tool_outputs()
        assert "exit_code: 3" in output
        assert "line 1\n" in output and f"line {LINES}" in output
    await engine.close()


async def test_a_task_whose_container_is_gone_fails_saying_so(tmp_path: Path) -> None:
    repo = make_calc_repo(tmp_path / "calc")
    home = tmp_path / "home"
    with ScriptedModelServer(conversations=[shell_conversation(0)]) as server:
        await crash_engine(home, server, repo, ["count"])
        engine = scripted_engine(home, server)
        [task] = engine.tasks()
        client = docker.from_env()
        client.containers.get(task.sandbox_id).remove(force=True)
        client.close()
        [task_id] = await resumed(engine, 1)
    failed = engine.task(task_id)
    assert failed.status is TaskStatus.FAILED
    assert failed.error.startswith(CONTAINER_GONE)
    await engine.close()


async def test_a_task_interrupted_in_setup_fails_without_running_setup_again(
    tmp_path: Path,
) -> None:
    repo = make_calc_repo(tmp_path / "calc")
    home = tmp_path / "home"
    config = {"environments": {"default": {"setup": "echo setting up; sleep 600"}}}
    with ScriptedModelServer([Reply(text="never asked")]) as server:
        await crash_engine(home, server, repo, ["set up"], "setup", config)
        engine = scripted_engine(home, server, **config)
        [task_id] = await resumed(engine, 1)
        requests = server.requests
    failed = engine.task(task_id)
    assert failed.status is TaskStatus.FAILED and failed.error == SETUP_INTERRUPTED
    assert [c.phase for c in engine.commands(task_id)].count("setup") == 1
    assert requests == []
    client = docker.from_env()
    assert client.containers.get(failed.sandbox_id).status == "exited"
    client.close()
    await engine.close()


async def test_a_task_whose_host_stays_down_fails_as_host_down_after_reconnect_seconds(
    tmp_path: Path,
) -> None:
    repo = make_calc_repo(tmp_path / "calc")
    home = tmp_path / "home"
    up = {"hosts": {"box": {"docker": "unix:///var/run/docker.sock"}}}
    gone = tmp_path / "gone.sock"
    down = {"hosts": {"box": {"docker": f"unix://{gone}", "reconnect_seconds": 1}}}
    with ScriptedModelServer(conversations=[shell_conversation(0)]) as server:
        await crash_engine(home, server, repo, ["count"], config=up, host="box")
        before = len(server.requests)
        engine = scripted_engine(home, server, **down)
        [task_id] = await resumed(engine, 1)
        after = server.requests[before:]
    failed = engine.task(task_id)
    client = docker.from_env()
    client.containers.get(failed.sandbox_id).remove(force=True)
    client.close()
    assert failed.status is TaskStatus.FAILED and failed.host == "box"
    assert failed.error.startswith("host box is down (")
    assert "retry the task" in failed.error
    assert after == []
    await engine.close()


def backdate(database: Path, task_id: str, seconds: float) -> None:
    """Move every recorded event of the task `seconds` into the past, as if it began then."""
    with sqlite3.connect(database) as db:
        db.execute(
            "UPDATE events SET ts = ts - ?, data = json_set(data, '$.ts', ts - ?)"
            " WHERE task_id = ?",
            (seconds, seconds, task_id),
        )
    db.close()


async def test_a_resumed_run_keeps_the_wall_time_it_already_had(tmp_path: Path) -> None:
    repo = make_calc_repo(tmp_path / "calc")
    home = tmp_path / "home"
    limit = {"agent": {"max_wall_seconds": 60}}
    with ScriptedModelServer(conversations=[shell_conversation(0)]) as server:
        await crash_engine(home, server, repo, ["count"], config=limit)
        before = len(server.requests)
        engine = scripted_engine(home, server, **limit)
        [task] = engine.tasks()
        backdate(home / "state" / "taskyard.db", task.id, seconds=120)
        [task_id] = await resumed(engine, 1)
        after = server.requests[before:]
    stopped = engine.task(task_id)
    assert stopped.status is TaskStatus.FAILED
    assert stopped.error == "the agent was stopped at max_wall_seconds (60s)"
    assert after == []
    [command] = [c for c in engine.commands(task_id) if c.phase == "agent"]
    assert command.exit_code == 3 and Path(command.log_path).read_bytes() == EXPECTED_LOG
    await engine.close()
