"""Two stores on one Docker engine never collide on a container name."""

from __future__ import annotations

from pathlib import Path

import docker
import pytest

import engine.api
from engine.api import TaskRequest
from engine.record.store import Store
from tests.support.engines import run_to_end, scripted_engine
from tests.support.model_server import Reply, ScriptedModelServer
from tests.support.repos import make_calc_repo

pytestmark = pytest.mark.usefixtures("docker_available")

SAME_ID = "5a5e1d00"


def same_task_id(store: Store) -> str:
    return SAME_ID


async def test_two_stores_with_the_same_task_id_both_get_containers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(engine.api, "_new_task_id", same_task_id)
    repo = make_calc_repo(tmp_path / "calc")
    tasks = []
    with ScriptedModelServer([Reply(text="one"), Reply(text="two")]) as server:
        for home in ("home-a", "home-b"):
            engine_of_home = scripted_engine(tmp_path / home, server)
            task, _ = await run_to_end(engine_of_home, TaskRequest(prompt="look", repo=str(repo)))
            await engine_of_home.close()
            tasks.append(task)
    assert [task.id for task in tasks] == [SAME_ID, SAME_ID]
    assert [task.status for task in tasks] == ["ready", "ready"], [t.error for t in tasks]
    client = docker.from_env()
    names = {client.containers.get(task.sandbox_id).name for task in tasks}
    client.close()
    assert len(names) == 2 and all(name.endswith(f"-{SAME_ID}") for name in names)
