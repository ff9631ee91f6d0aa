"""A restart of the Docker engine stops the sandbox under a running command: the sandbox is
started again, the agent is told its command was interrupted, and the task goes on.

The dockerd test stops and starts the machine's Docker engine, so it runs under CI=true (where CI
owns the engine, started by `.ci/ensure-docker`) or with TASKYARD_RESTART_DOCKERD=1, and restores
the engine however it ends.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import docker
import pytest

from engine.api import Engine, TaskRequest
from engine.views.events import OutputChunk
from engine.views.task import TaskStatus
from sandboxes.docker_exec import ENGINE_RESTART_NOTE
from tests.support.engines import scripted_engine
from tests.support.model_server import Call, RecordedRequest, Reply, ScriptedModelServer
from tests.support.repos import make_calc_repo

pytestmark = pytest.mark.usefixtures("docker_available")

ROOT = Path(__file__).resolve().parents[1]
SLOW_LINES = ["bash", "-c", "for i in $(seq 1 60); do echo line $i; sleep 0.5; done"]
DOCKERD_PID_FILE = Path("/var/run/docker.pid")
DOCKERD_EXIT_SECONDS = 90.0
TASK_SECONDS = 300.0


def told_interrupted(request: RecordedRequest) -> Reply:
    """The reply once the agent was told its command was interrupted: run one more command."""
    [output] = request.tool_outputs()
    assert f"exit_code: none ({ENGINE_RESTART_NOTE}" in output
    assert "line 1\n" in output
    return Reply(tool_calls=[Call("shell", {"command": ["echo", "after the restart"]})])


SCRIPT = [
    Reply(tool_calls=[Call("shell", {"command": SLOW_LINES})]),
    told_interrupted,
    Reply(text="went on after the restart"),
]


async def run_through(tmp_path: Path, interrupt: Callable[[Engine, str], Awaitable[None]]) -> None:
    """Run a task whose first command is cut off by `interrupt`; it must end ready."""
    repo = make_calc_repo(tmp_path / "calc")
    with ScriptedModelServer(SCRIPT) as server:
        engine = scripted_engine(tmp_path / "home", server)
        subscription = engine.subscribe()
        record = await engine.submit(TaskRequest(prompt="count", repo=str(repo)))
        async for event in subscription:
            if isinstance(event, OutputChunk) and "line 2" in event.text:
                break
        subscription.close()
        await interrupt(engine, record.id)
        done = await asyncio.wait_for(engine.wait(record.id), TASK_SECONDS)
    assert done.status is TaskStatus.READY, done.error
    assert done.final_message == "went on after the restart"
    first, after = [c for c in engine.commands(record.id) if c.phase == "agent"]
    assert first.exit_code is None and not first.timed_out
    assert Path(first.log_path).read_bytes().startswith(b"line 1\nline 2\n")
    assert after.exit_code == 0
    await engine.close()


async def stop_container(engine: Engine, task_id: str) -> None:
    """Stop the task's container the way a stopping Docker engine does."""
    sandbox_id = engine.task(task_id).sandbox_id
    client = docker.from_env()
    try:
        await asyncio.to_thread(lambda: client.containers.get(sandbox_id).stop(timeout=1))
    finally:
        client.close()


async def test_a_command_whose_container_stopped_under_it_is_reported_interrupted(
    tmp_path: Path,
) -> None:
    await run_through(tmp_path, stop_container)


def dockerd_pid() -> int:
    """The pid of the running dockerd, from its pid file or by name."""
    if DOCKERD_PID_FILE.exists():
        return int(DOCKERD_PID_FILE.read_text().strip())
    found = subprocess.run(["pgrep", "-x", "dockerd"], capture_output=True, text=True, check=True)
    return int(found.stdout.split()[0])


def stop_dockerd() -> None:
    """SIGTERM dockerd and wait until it has exited."""
    pid = dockerd_pid()
    os.kill(pid, signal.SIGTERM)
    give_up = time.monotonic() + DOCKERD_EXIT_SECONDS
    while Path(f"/proc/{pid}").exists():
        if time.monotonic() > give_up:
            raise AssertionError(f"dockerd {pid} did not exit within {DOCKERD_EXIT_SECONDS:g}s")
        time.sleep(0.2)


def start_dockerd() -> None:
    """Start dockerd the way CI does, and wait until it answers."""
    subprocess.run(["bash", ROOT / ".ci" / "ensure-docker"], check=True, capture_output=True)


async def restart_dockerd(engine: Engine, task_id: str) -> None:
    try:
        await asyncio.to_thread(stop_dockerd)
    finally:
        await asyncio.to_thread(start_dockerd)


@pytest.mark.skipif(
    os.environ.get("CI") != "true" and os.environ.get("TASKYARD_RESTART_DOCKERD") != "1",
    reason="restarts the machine's Docker engine: runs under CI=true or TASKYARD_RESTART_DOCKERD=1",
)
async def test_a_dockerd_restart_mid_command_is_reported_and_the_task_goes_on(
    tmp_path: Path,
) -> None:
    try:
        await run_through(tmp_path, restart_dockerd)
    finally:
        await asyncio.to_thread(start_dockerd)
