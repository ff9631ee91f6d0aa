"""Limits that hold against a hostile agent, on a real Docker engine: runaway processes."""

from __future__ import annotations

import asyncio
import re
import urllib.request
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import docker
import pytest

from engine.api import TaskRequest
from engine.errors import EngineError
from engine.views.events import Event
from engine.views.task import CommandRecord, TaskRecord
from sandboxes.base import SandboxSpec
from sandboxes.docker import DockerBackend, DockerSandbox, default_image_tag
from tests.support.agent_script import shell
from tests.support.engines import run_to_end, scripted_engine
from tests.support.model_server import Call, Reply, ScriptedModelServer, Step
from tests.support.output import Output
from tests.support.repos import make_calc_repo

pytestmark = pytest.mark.docker

BASE_IMAGE = "debian:bookworm-slim"
TEST_LABEL = "dev.taskyard.test-run"
HANG_GUARD_SECONDS = 300
"""Fails a test whose task never ends instead of hanging the run."""

ESCAPING_CHILDREN = (
    "setsid sleep 7301 & "
    "( sleep 7302 & ) ; "
    "setsid sh -c 'sleep 7303 & sleep 7304' & "
    "timeout 1000 sleep 7305 & "
    "nohup sleep 7306 >/dev/null 2>&1 & "
    'while [ "$(survivors | wc -l)" -lt 6 ]; do sleep 0.05; done; '
    "echo started; sleep 7300"
)
"""Starts children that leave the command's process group or its process tree: setsid,
double-forked, setsid and double-forked, timeout-wrapped (timeout makes its own group) and
nohup; prints `started` once all of them run."""

SURVIVORS = (
    "survivors() { for dir in /proc/[0-9]*; do "
    'line=$(tr "\\000" " " < "$dir/cmdline" 2>/dev/null) || continue; '
    'case "$line" in "sleep 730"[0-9]*) '
    'grep -q "^State:.*Z" "$dir/status" 2>/dev/null || echo "$line";; esac; done; }; '
)
"""A shell function listing the live processes of ESCAPING_CHILDREN, one command line each."""


@dataclass
class Outcome:
    """A finished task with its engine, events and what the model was sent back."""

    record: TaskRecord
    events: list[Event]
    tool_outputs: list[str]
    commands: list[CommandRecord]
    setup_output: str


async def run_task(tmp_path: Path, script: list[Step], **config: object) -> Outcome:
    """Run one task on the calc repository with the scripted model playing `script`."""
    repo = make_calc_repo(tmp_path / "calc")
    with ScriptedModelServer(script) as server:
        engine = scripted_engine(tmp_path / "home", server, **config)
        async with asyncio.timeout(HANG_GUARD_SECONDS):
            record, events = await run_to_end(engine, TaskRequest(prompt="go", repo=str(repo)))
        outputs = server.requests[-1].tool_outputs() if server.requests else []
    commands = engine.commands(record.id)
    setup = [engine.read_output(record.id, c.chunk_id) for c in commands if c.phase == "setup"]
    await engine.close()
    return Outcome(record, events, outputs, commands, b"".join(setup).decode())


@pytest.fixture
def backend(docker_available: None) -> DockerBackend:
    return DockerBackend()


@pytest.fixture
async def sandbox(backend: DockerBackend) -> AsyncIterator[DockerSandbox]:
    box = await backend.create(SandboxSpec(image=BASE_IMAGE, labels={TEST_LABEL: uuid.uuid4().hex}))
    yield box
    await box.remove()


def container_started_at(box: DockerSandbox) -> str:
    client = docker.from_env()
    try:
        started_at: str = client.api.inspect_container(box.id)["State"]["StartedAt"]
    finally:
        client.close()
    return started_at


async def survivors(box: DockerSandbox) -> list[str]:
    output = Output()
    result = await box.exec(["sh", "-c", SURVIVORS + "survivors"], on_output=output)
    assert result.exit_code == 0, output.data
    return output.data.decode().splitlines()


async def test_a_timeout_ends_setsid_double_forked_and_timeout_wrapped_children(
    sandbox: DockerSandbox,
) -> None:
    output = Output()
    script = SURVIVORS + ESCAPING_CHILDREN
    result = await sandbox.exec(["sh", "-c", script], timeout=5, on_output=output)
    assert result.timed_out and output.data == b"started\n"
    assert await survivors(sandbox) == []
    assert result.restart is None, "ended by a restart, not a kill"


async def test_cancel_ends_every_process_a_command_started(sandbox: DockerSandbox) -> None:
    output = Output(marker=b"started\n")
    script = SURVIVORS + ESCAPING_CHILDREN
    started_at = container_started_at(sandbox)
    command = asyncio.create_task(sandbox.exec(["sh", "-c", script], on_output=output))
    await output.seen_marker.wait()
    command.cancel()
    with pytest.raises(asyncio.CancelledError):
        await command
    assert await survivors(sandbox) == []
    assert container_started_at(sandbox) == started_at, "ended by a restart, not a kill"


async def test_processes_of_an_unprivileged_command_are_ended_too(
    sandbox: DockerSandbox,
) -> None:
    output = Output()
    script = SURVIVORS + ESCAPING_CHILDREN
    result = await sandbox.exec(
        ["sh", "-c", script], timeout=5, on_output=output, user="65534:65534"
    )
    assert result.timed_out and output.data == b"started\n"
    assert await survivors(sandbox) == []
    assert result.restart is None, "ended by a restart, not a kill"


async def test_a_finished_command_keeps_its_background_processes(
    sandbox: DockerSandbox,
) -> None:
    result = await sandbox.exec(["sh", "-c", "setsid sleep 7309 >/dev/null 2>&1 &"])
    assert result.exit_code == 0
    assert await survivors(sandbox) == ["sleep 7309 "]


async def test_a_fork_bomb_is_ended_at_its_timeout_with_a_clear_message(
    tmp_path: Path, docker_available: None
) -> None:
    bomb = "setsid perl -e 'fork while 1' & sleep 1000"
    script: list[Step] = [
        Reply(tool_calls=[shell("bash", "-c", bomb, timeout_ms=3000)]),
        Reply(tool_calls=[shell("sh", "-c", "echo alive; ls /proc | grep -c '^[0-9]'")]),
        Reply(text="survived"),
    ]
    outcome = await run_task(tmp_path, script, sandbox={"pids_limit": 64})
    bombed, after = outcome.tool_outputs
    assert "exit_code: timeout (killed after 3s; the sandbox ran out of processes " in bombed
    assert (
        "([sandbox] pids_limit = 64), so every process in it was ended and it was restarted)"
        in bombed
    )
    assert "exit_code: 0" in after and "alive" in after
    assert int(after.splitlines()[-1]) < 16, after
    assert outcome.record.status == "ready", outcome.record.error


def store_bytes(home: Path) -> int:
    """The size of the engine's SQLite store, its write-ahead log included."""
    return sum(path.stat().st_size for path in (home / "state").glob("*.db*"))


async def test_an_oversized_shell_argument_is_refused_to_the_model_and_the_task_goes_on(
    tmp_path: Path, docker_available: None
) -> None:
    oversized = "x" * 50_000_000
    script: list[Step] = [
        Reply(tool_calls=[shell("sh", "-c", f"echo {oversized}")]),
        Reply(tool_calls=[shell("sh", "-c", f"echo {'y' * 200_000}")]),
        Reply(tool_calls=[Call("apply_patch", {"input": oversized[:9_000_000]})]),
        Reply(tool_calls=[shell("sh", "-c", f"echo went on #{'z' * 120_000}")]),
        Reply(text="done"),
    ]
    outcome = await run_task(tmp_path, script)
    refused, too_long, big_patch, went_on = outcome.tool_outputs
    assert refused == (
        "error: the shell arguments are 47.7 MiB, over the 1 MiB limit; nothing was run: "
        "write large content into a file with apply_patch and pass the file's path"
    )
    assert too_long.startswith("error: one argument of `command` is 195 KiB, over the 128 KiB")
    assert big_patch.startswith("error: the apply_patch arguments are 8.6 MiB, over the 8 MiB")
    assert "exit_code: 0" in went_on and went_on.endswith("went on")
    assert outcome.record.status == "ready", outcome.record.error
    ran = [command for command in outcome.commands if command.phase == "agent"]
    assert [len(command.command[2]) for command in ran] == [2028]
    assert "…[118014 characters elided]…" in ran[0].command[2]
    assert store_bytes(tmp_path / "home") < 2_000_000


LISTENER = "setsid python3 -m http.server 8000 >/dev/null 2>&1 &"
PROBE = (
    "for ip in $TARGETS; do "
    "curl -s -m 3 -o /dev/null http://$ip:8000/ && echo reached $ip || echo blocked $ip; done; "
    "ls /sys/class/net | tr '\\n' ' '"
)
"""Tries each listener in TARGETS and lists the interfaces (the task has a network)."""


def container_ip(client: docker.DockerClient, container_id: str) -> str:
    networks = client.api.inspect_container(container_id)["NetworkSettings"]["Networks"]
    return str(next(iter(networks.values()))["IPAddress"])


def answers(ip: str) -> bool:
    try:
        with urllib.request.urlopen(f"http://{ip}:8000/", timeout=5):
            return True
    except OSError:
        return False


async def listening(client: docker.DockerClient, container_id: str) -> str:
    """Wait until the container's listener answers the host; its address."""
    ip = container_ip(client, container_id)
    while not await asyncio.to_thread(answers, ip):
        await asyncio.sleep(0.1)
    return ip


@pytest.fixture
async def other_tasks_container(backend: DockerBackend) -> AsyncIterator[DockerSandbox]:
    """A sandbox with network, as another task's, serving HTTP on port 8000."""
    box = await backend.create(
        SandboxSpec(image=default_image_tag(), labels={TEST_LABEL: uuid.uuid4().hex})
    )
    await box.exec(["sh", "-c", LISTENER])
    yield box
    await box.remove()


@pytest.fixture
def foreign_container(docker_available: None) -> Iterator[str]:
    """A container of someone else's on the default bridge, serving HTTP on port 8000."""
    client = docker.from_env()
    container = client.containers.run(
        default_image_tag(),
        ["python3", "-m", "http.server", "8000"],
        detach=True,
        labels={TEST_LABEL: uuid.uuid4().hex},
    )
    yield str(container.id)
    container.remove(force=True)
    client.close()


async def test_a_task_cannot_reach_another_tasks_container(
    tmp_path: Path, other_tasks_container: DockerSandbox, foreign_container: str
) -> None:
    client = docker.from_env()
    targets = [
        await listening(client, other_tasks_container.id),
        await listening(client, foreign_container),
    ]
    client.close()
    environment = {"setup": PROBE, "network": "on", "env": {"TARGETS": " ".join(targets)}}
    script: list[Step] = [Reply(tool_calls=[shell("sh", "-c", PROBE)]), Reply(text="probed")]
    outcome = await run_task(tmp_path, script, environments={"default": environment})
    assert outcome.record.status == "ready", outcome.record.error
    blocked = [f"blocked {ip}" for ip in targets]
    assert outcome.setup_output.splitlines() == [*blocked, "eth0 lo "]
    assert outcome.tool_outputs[0].splitlines()[-3:] == [*blocked, "eth0 lo "]


async def test_a_task_writing_past_the_disk_limit_is_stopped(
    tmp_path: Path, docker_available: None
) -> None:
    fill = "dd if=/dev/zero of=/tmp/fill bs=1M count=200 2>/dev/null; echo written; sleep 600"
    script: list[Step] = [
        Reply(tool_calls=[shell("sh", "-c", fill, timeout_ms=60_000)]),
        Reply(text="wrote it all"),
    ]
    sandbox = {"disk": "50m", "disk_check_seconds": 0.2}
    outcome = await run_task(tmp_path, script, sandbox=sandbox)
    assert outcome.record.status == "failed"
    assert re.fullmatch(
        r"the sandbox wrote \d+\.\d MiB, past \[sandbox\] disk = 50m: raise \[sandbox\] disk, "
        "or ask for work that writes less",
        outcome.record.error,
    ), outcome.record.error


async def test_a_missing_runtime_is_a_clear_error(tmp_path: Path, docker_available: None) -> None:
    missing = {"runtime": "taskyard-no-such-runtime"}
    message = (
        r"runtime taskyard-no-such-runtime is not installed on host local \(it has: .*runc.*\): "
        r"install it or unset \[sandbox\] runtime"
    )
    with ScriptedModelServer() as server:
        engine = scripted_engine(tmp_path / "checked", server, sandbox=missing)
        request = TaskRequest(prompt="go", repo=str(make_calc_repo(tmp_path / "checked-calc")))
        with pytest.raises(EngineError) as refused:
            await engine.preflight(request)
        await engine.close()
    assert re.fullmatch(message, str(refused.value)), refused.value
    outcome = await run_task(tmp_path, [], sandbox=missing)
    assert outcome.record.status == "failed"
    assert re.fullmatch(message, outcome.record.error), outcome.record.error


async def test_a_sandbox_leaves_a_cpu_to_the_host_at_a_lower_cpu_weight(
    sandbox: DockerSandbox,
) -> None:
    client = docker.from_env()
    try:
        host_cpus = client.info()["NCPU"]
        host_config = client.api.inspect_container(sandbox.id)["HostConfig"]
    finally:
        client.close()
    assert host_config["NanoCpus"] == max(1, host_cpus - 1) * 1_000_000_000
    assert host_config["CpuShares"] == 256
