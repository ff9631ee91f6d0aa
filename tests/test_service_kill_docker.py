"""kill -9 of a real `taskyard` service mid-command: the next service takes every task up.

The service is the real background process the client starts; the scripted model server lives in
the test, so it sees the requests sent before and after the kill.
"""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path

import pytest

from engine.paths import Paths
from engine.service.client import ServiceClient
from engine.views.request import TaskRequest
from engine.views.task import TaskStatus
from tests.support.model_server import Call, Reply, ScriptedModelServer
from tests.support.repos import make_calc_repo
from tests.support.service import process_alive, until_output_lines

pytestmark = pytest.mark.usefixtures("docker_available")

TASKS = 3
LINES = 40
COMMAND = ["bash", "-c", f"for i in $(seq 1 {LINES}); do echo line $i; sleep 0.15; done"]
EXPECTED = "".join(f"line {n}\n" for n in range(1, LINES + 1))


async def test_tasks_of_a_killed_service_end_ready_with_their_whole_logs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = make_calc_repo(tmp_path / "repo")
    script = [Reply(tool_calls=[Call("shell", {"command": COMMAND})]), Reply(text="counted")]
    with ScriptedModelServer(conversations=[script] * TASKS) as server:
        for name, value in {
            "OPENAI_API_KEY": "test-key",
            "OPENAI_BASE_URL": server.base_url,
            "TASKYARD_WIRE_API": "chat",
            "TASKYARD_MODEL": "scripted-codex",
        }.items():
            monkeypatch.setenv(name, value)
        paths = Paths(
            config_dir=tmp_path / "home" / "config", state_dir=tmp_path / "home" / "state"
        )
        client = await ServiceClient.connect(paths)
        requests = [TaskRequest(prompt=f"count {n}", repo=str(repo)) for n in range(TASKS)]
        ids = [(await client.submit(request)).id for request in requests]
        await asyncio.wait_for(until_output_lines(client, ids, 5), timeout=180)
        killed = (await client.status()).pid
        sent_before = len(server.requests)
        os.kill(killed, signal.SIGKILL)
        await client.close()
        while process_alive(killed):
            await asyncio.sleep(0.05)

        client = await ServiceClient.connect(paths)
        assert (await client.status()).pid != killed
        ended = [await asyncio.wait_for(client.wait(task_id), timeout=180) for task_id in ids]
        logs = []
        for task_id in ids:
            agent = [c for c in await client.commands(task_id) if c.phase == "agent"]
            logs.append((agent, await client.read_output(task_id, agent[0].chunk_id)))
        await client.stop()
        await client.close()
        after = server.requests[sent_before:]
        assert server.rejections == [], "no request carried a tool call without its result"

    assert [task.status for task in ended] == [TaskStatus.READY] * TASKS
    for agent, output in logs:
        assert len(agent) == 1
        assert agent[0].exit_code == 0
        assert output.decode() == EXPECTED
    assert len(after) == TASKS, "each task asked the model once more, after its command ended"
    for request in after:
        assert request.tool_outputs()[-1].count("line ") == LINES
        assert "exit_code: 0" in request.tool_outputs()[-1]
