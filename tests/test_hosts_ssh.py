"""Tasks on Docker hosts reached over a real OpenSSH sshd: whole tasks, trust, load, sharing."""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path
from typing import Any

import pytest

from engine.api import Engine, TaskRequest
from engine.views.events import Event
from engine.views.task import TaskRecord
from tests.support.agent_script import TEST_COMMAND, fix_script, shell
from tests.support.cli import run_taskyard
from tests.support.engines import of_type, run_to_end, scripted_engine
from tests.support.model_server import RecordedRequest, Reply, ScriptedModelServer
from tests.support.repos import make_calc_repo
from tests.support.sshd import SshServer

pytestmark = pytest.mark.usefixtures("docker_available")


def ssh_host(server: SshServer, max_tasks: int = 8) -> dict[str, Any]:
    return {
        "ssh": server.target,
        "identity_file": str(server.user_key),
        "known_hosts": str(server.known_hosts),
        "max_tasks": max_tasks,
    }


def one_command_then_done(request: RecordedRequest) -> Reply:
    """Any task's turn: a short command first, then the answer."""
    if request.tool_outputs():
        return Reply(text="done")
    return Reply(tool_calls=[shell("sh", "-c", "sleep 1; echo ran")])


async def run_all(
    engine: Engine, requests: list[TaskRequest]
) -> list[tuple[TaskRecord, list[Event]]]:
    return await asyncio.gather(*(run_to_end(engine, request) for request in requests))


def most_at_once(spans: list[tuple[float, float]]) -> int:
    """The largest number of (start, end) spans open at one time."""
    edges = sorted([(start, 1) for start, _ in spans] + [(end, -1) for _, end in spans])
    open_now = peak = 0
    for _, step in edges:
        open_now += step
        peak = max(peak, open_now)
    return peak


def placed_span(events: list[Event]) -> tuple[float, float]:
    """From provisioning (the task holds its host slot) to task.finished."""
    started = next(e.ts for e in of_type(events, "task.status") if e.status == "provisioning")
    return started, of_type(events, "task.finished")[0].ts


async def test_a_whole_task_runs_on_an_ssh_host(tmp_path: Path, sshd: SshServer) -> None:
    repo = make_calc_repo(tmp_path / "calc")
    server = ScriptedModelServer(fix_script()).start()
    engine = scripted_engine(tmp_path / "home", server, hosts={"remote": ssh_host(sshd)})
    try:
        request = TaskRequest(prompt="fix the test", repo=str(repo), host="remote")
        await engine.preflight(request)
        record, events = await run_to_end(engine, request)
    finally:
        server.stop()
    assert record.status == "ready" and record.host == "remote", record.error
    assert "+    return a + b" in record.diff
    tests = [e for e in of_type(events, "command.finished") if e.command == TEST_COMMAND]
    assert [e.exit_code for e in tests] == [1, 0]
    assert all(c["valid"] for c in record.citations)
    assert engine.hosts.get("remote").state == "connected"
    await engine.close()


SLOW_LINES = 40
SLOW_COMMAND = f'for i in $(seq 1 {SLOW_LINES}); do echo "line $i"; sleep 0.1; done'


def slow_command_then_done(request: RecordedRequest) -> Reply:
    """A command that prints one line every 0.1 s, then the answer."""
    if request.tool_outputs():
        return Reply(text="counted")
    return Reply(tool_calls=[shell("sh", "-c", SLOW_COMMAND)])


async def kill_connections_once_output_flows(engine: Engine, sshd: SshServer) -> None:
    """Drop every SSH connection as soon as a task's command has printed its third line."""
    subscription = engine.subscribe()
    async for event in subscription:
        if event.type == "command.output" and "line 3\n" in event.text:
            assert sshd.kill_connections() >= 1
            break
    subscription.close()


async def test_a_connection_killed_mid_task_the_task_finishes_with_its_full_log(
    tmp_path: Path, sshd: SshServer
) -> None:
    repo = make_calc_repo(tmp_path / "calc")
    server = ScriptedModelServer([slow_command_then_done] * 2).start()
    engine = scripted_engine(tmp_path / "home", server, hosts={"remote": ssh_host(sshd)})
    states: list[str] = []
    try:
        request = TaskRequest(prompt="count", repo=str(repo), host="remote")
        await engine.preflight(request)
        engine.hosts.get("remote").add_listener(lambda _host: states.append(_host.state))
        killer = asyncio.ensure_future(kill_connections_once_output_flows(engine, sshd))
        record, events = await run_to_end(engine, request)
        await killer
    finally:
        server.stop()
    assert record.status == "ready", record.error
    assert "reconnecting" in states and states[-1] == "connected"
    [finished] = [e for e in of_type(events, "command.finished") if e.command[-1] == SLOW_COMMAND]
    assert (finished.exit_code, finished.timed_out) == (0, False)
    expected = "".join(f"line {n}\n" for n in range(1, SLOW_LINES + 1))
    assert engine.read_output(record.id, finished.chunk_id).decode() == expected
    streamed = "".join(
        e.text for e in of_type(events, "command.output") if e.chunk_id == finished.chunk_id
    )
    assert streamed == expected
    await engine.close()


async def stop_sshd_once_output_flows(engine: Engine, sshd: SshServer) -> None:
    """Take the SSH host away for good as soon as a task's command has printed its third line."""
    subscription = engine.subscribe()
    async for event in subscription:
        if event.type == "command.output" and "line 3\n" in event.text:
            sshd.stop()
            break
    subscription.close()


async def test_a_host_that_stays_down_fails_its_task_which_a_retry_runs_elsewhere(
    tmp_path: Path, sshd: SshServer
) -> None:
    repo = make_calc_repo(tmp_path / "calc")
    server = ScriptedModelServer([slow_command_then_done] * 3).start()
    hosts = {
        "remote": {**ssh_host(sshd), "reconnect_seconds": 2},
        "local": {"docker": "unix:///var/run/docker.sock"},
    }
    engine = scripted_engine(tmp_path / "home", server, hosts=hosts)
    try:
        request = TaskRequest(prompt="count", repo=str(repo), host="remote")
        await engine.preflight(request)
        stopper = asyncio.ensure_future(stop_sshd_once_output_flows(engine, sshd))
        lost, _ = await run_to_end(engine, request)
        await stopper
        assert lost.status == "failed"
        assert lost.error.startswith("host remote is down:"), lost.error
        assert "Retry the task" in lost.error
        assert engine.host_states()["remote"] == "down"

        subscription = engine.subscribe()
        retried = await engine.retry(lost.id)
        async for event in subscription:
            if event.task_id == retried.id and event.type == "task.finished":
                break
        subscription.close()
        again = await engine.wait(retried.id)
    finally:
        server.stop()
        await engine.close()
    assert (again.status, again.host) == ("ready", "local"), again.error


async def test_twenty_tasks_at_once_on_one_ssh_host(tmp_path: Path, sshd: SshServer) -> None:
    repo = make_calc_repo(tmp_path / "calc")
    server = ScriptedModelServer([one_command_then_done] * 40).start()
    engine = scripted_engine(tmp_path / "home", server, hosts={"remote": ssh_host(sshd, 20)})
    requests = [TaskRequest(f"task {n}", str(repo), host="remote") for n in range(20)]
    try:
        results = await run_all(engine, requests)
    finally:
        server.stop()
    assert [record.status for record, _ in results] == ["ready"] * 20, results[0][0].error
    outputs = [of_type(events, "command.finished")[-1] for _, events in results]
    assert all(finished.exit_code == 0 for finished in outputs)
    assert most_at_once([placed_span(events) for _, events in results]) > 10
    await engine.close()


async def test_two_hosts_share_a_queue_beyond_their_capacity(
    tmp_path: Path, sshd: SshServer
) -> None:
    repo = make_calc_repo(tmp_path / "calc")
    server = ScriptedModelServer([one_command_then_done] * 12).start()
    hosts = {
        "local": {"docker": "unix:///var/run/docker.sock", "max_tasks": 1},
        "remote": ssh_host(sshd, 2),
    }
    engine = scripted_engine(tmp_path / "home", server, hosts=hosts)
    try:
        runs = asyncio.ensure_future(
            run_all(engine, [TaskRequest(f"task {n}", str(repo)) for n in range(6)])
        )
        while engine.hosts.queued() == 0 and not runs.done():
            await asyncio.sleep(0.01)
        assert engine.hosts.queued() > 0
        results = await runs
    finally:
        server.stop()
    assert [record.status for record, _ in results] == ["ready"] * 6
    by_host: dict[str, list[tuple[float, float]]] = {"local": [], "remote": []}
    for record, events in results:
        by_host[record.host].append(placed_span(events))
    assert by_host["local"] and by_host["remote"]
    assert most_at_once(by_host["local"]) == 1
    assert most_at_once(by_host["remote"]) <= 2
    await engine.close()


async def test_an_unknown_host_key_is_refused_with_its_fingerprint(
    tmp_path: Path, sshd: SshServer
) -> None:
    untrusted = tmp_path / "empty_known_hosts"
    untrusted.write_text("")
    host = {**ssh_host(sshd), "known_hosts": str(untrusted)}
    server = ScriptedModelServer([]).start()
    engine = scripted_engine(tmp_path / "home", server, hosts={"remote": host})
    try:
        checks = await engine.check_host("remote")
        with pytest.raises(Exception, match="SHA256:"):
            await engine.preflight(TaskRequest("x", str(tmp_path), host="remote"))
    finally:
        server.stop()
        await engine.close()
    assert not checks[0].ok and "SHA256:" in checks[0].detail
    assert "ssh-keyscan" in checks[0].detail


async def test_a_host_found_down_is_reached_again_once_it_is_back(
    tmp_path: Path, sshd: SshServer
) -> None:
    server = ScriptedModelServer([]).start()
    engine = scripted_engine(tmp_path / "home", server, hosts={"remote": ssh_host(sshd)})
    try:
        sshd.stop()
        down = await engine.check_host("remote")
        assert not down[0].ok and "cannot reach" in down[0].detail
        assert engine.host_states()["remote"] == "down"
        sshd.start()
        back = await engine.check_host("remote")
        assert [check.ok for check in back] == [True, True, True]
        assert engine.host_states()["remote"] == "connected"
    finally:
        server.stop()
        await engine.close()


def test_hosts_commands_list_and_check_every_host(tmp_path: Path, sshd: SshServer) -> None:
    home = tmp_path / "home"
    (home / "config").mkdir(parents=True)
    host = ssh_host(sshd, 3)
    (home / "config" / "config.toml").write_text(
        "[hosts.remote]\n" + "".join(f"{key} = {value!r}\n" for key, value in host.items())
    )
    env = {**os.environ, "TASKYARD_HOME": str(home), "DOCKER_CONFIG": str(tmp_path / "none")}
    listed = run_taskyard("hosts", "--json", env=env)
    assert listed.returncode == 0, listed.stderr
    rows = {row["name"]: row for row in map(json.loads, listed.stdout.splitlines())}
    assert set(rows) == {"remote", "local"}
    assert (rows["remote"]["state"], rows["remote"]["max_tasks"]) == ("connected", 3)
    assert (rows["remote"]["running"], rows["remote"]["queued"]) == (0, 0)

    checked = run_taskyard("hosts", "check", "remote", env=env)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert [line[:1] for line in checked.stdout.splitlines()] == ["✓", "✓", "✓"]
    unknown = run_taskyard("hosts", "check", "nope", env=env)
    assert unknown.returncode == 2 and "unknown host 'nope'" in unknown.stderr
