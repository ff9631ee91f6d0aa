"""Sources, results and evidence on real Docker: remote URLs, refs, citations, usage, show."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from engine.api import TaskRequest
from tests.support.agent_script import shell
from tests.support.cli import run_taskyard
from tests.support.engines import of_type, run_to_end, scripted_engine
from tests.support.model_server import Call, Reply, ScriptedModelServer
from tests.support.repos import git, make_calc_repo, make_repo

pytestmark = pytest.mark.usefixtures("docker_available")


async def test_remote_url_at_a_tag_with_its_history(tmp_path: Path) -> None:
    origin = make_calc_repo(tmp_path / "origin")
    git(origin, "tag", "v1")
    (origin / "calc.py").write_text("def add(a, b):\n    return 0\n")
    git(origin, "commit", "-qam", "later")
    bare = tmp_path / "remote.git"
    subprocess.run(["git", "clone", "-q", "--bare", str(origin), str(bare)], check=True)
    script = [
        Reply(
            tool_calls=[
                shell("bash", "-c", "git log --format=%s; git branch --show-current; cat calc.py")
            ]
        ),
        Reply(text="seen"),
    ]
    with ScriptedModelServer(script) as server:
        engine = scripted_engine(tmp_path / "home", server)
        record, _ = await run_to_end(
            engine, TaskRequest(prompt="look", repo=f"file://{bare}", ref="v1")
        )
        output = server.requests[-1].tool_outputs()[0]
    assert record.status == "ready", record.error
    assert f"initial\ntaskyard/{record.id}\ndef add(a, b):\n    return a - b" in output
    assert record.base_sha == git(origin, "rev-parse", "v1")
    await engine.close()


async def test_environment_workdir_and_agents_md_precedence(tmp_path: Path) -> None:
    repo = make_repo(
        tmp_path / "mono",
        {
            "AGENTS.md": "Root rule: use tabs.\n",
            "pkg/AGENTS.md": "Package rule: use spaces.\n",
            "pkg/mod.py": "X = 1\n",
        },
    )
    patch = "*** Begin Patch\n*** Update File: pkg/mod.py\n-X = 1\n+X = 2\n*** End Patch"
    script = [
        Reply(tool_calls=[shell("pwd")]),
        Reply(tool_calls=[Call("apply_patch", {"input": patch})]),
        Reply(text="set X 【F:pkg/mod.py†L1】"),
    ]
    with ScriptedModelServer(script) as server:
        engine = scripted_engine(
            tmp_path / "home", server, environments={"default": {"workdir": "pkg"}}
        )
        record, _ = await run_to_end(engine, TaskRequest(prompt="set X", repo=str(repo)))
        first = server.requests[0]
    instructions = first.body["messages"][0]["content"]
    assert instructions.index("Root rule") < instructions.index("Package rule")
    assert "(Working directory: pkg)" in first.last_user_text()
    assert "/workspace/repo/pkg" in server.requests[-1].tool_outputs()[0]
    assert record.status == "ready" and "+X = 2" in record.diff
    assert record.citations[0]["valid"] is True
    await engine.close()


async def test_invalid_citations_are_marked(tmp_path: Path) -> None:
    repo = make_calc_repo(tmp_path / "calc")
    script = [
        Reply(tool_calls=[shell("echo", "one line")]),
        lambda request: Reply(
            text=(
                f"ok 【{request.tool_outputs()[0].splitlines()[0][10:]}†L1】 "
                "【F:calc.py†L1-L2】 【F:calc.py†L2-L40】 【F:missing.py†L1】 【feedface†L1】"
            )
        ),
    ]
    with ScriptedModelServer(script) as server:
        engine = scripted_engine(tmp_path / "home", server)
        record, _ = await run_to_end(engine, TaskRequest(prompt="cite", repo=str(repo)))
    assert [c["valid"] for c in record.citations] == [True, True, False, False, False]
    assert [c["kind"] for c in record.citations] == ["chunk", "file", "file", "file", "chunk"]
    await engine.close()


async def test_token_and_wall_time_limits(tmp_path: Path) -> None:
    repo = make_calc_repo(tmp_path / "calc")
    script = [Reply(tool_calls=[shell("true")], usage=(100, 50)) for _ in range(3)]
    with ScriptedModelServer(script) as server:
        engine = scripted_engine(tmp_path / "home", server, agent={"max_tokens": 200})
        record, events = await run_to_end(engine, TaskRequest(prompt="spend", repo=str(repo)))
    assert record.status == "failed" and "max_tokens (200)" in record.error
    assert [e.input_tokens for e in of_type(events, "turn.usage")] == [100, 100]
    assert [t["output_tokens"] for t in engine.store.turns(record.id)] == [50, 50]
    assert record.usage["total_tokens"] == 300
    await engine.close()

    with ScriptedModelServer([Reply(tool_calls=[shell("sleep", "60")])]) as server:
        engine = scripted_engine(tmp_path / "home2", server, agent={"max_wall_seconds": 2})
        record, _ = await run_to_end(engine, TaskRequest(prompt="hang", repo=str(repo)))
    assert record.status == "failed" and "max_wall_seconds (2s)" in record.error
    await engine.close()


def test_show_and_tasks_as_json(tmp_path: Path) -> None:
    repo = make_calc_repo(tmp_path / "calc")
    home = tmp_path / "home"
    script = [Reply(tool_calls=[shell("python3", "-m", "unittest", "-q")]), Reply(text="fails")]
    env = {
        **os.environ,
        "TASKYARD_HOME": str(home),
        "OPENAI_API_KEY": "k",
        "TASKYARD_WIRE_API": "chat",
    }
    with ScriptedModelServer(script) as server:
        env["OPENAI_BASE_URL"] = server.base_url
        run = run_taskyard("run", "check", "--repo", str(repo), "--mode", "ask", env=env)
    assert run.returncode == 0, run.stderr
    listing = json.loads(run_taskyard("tasks", "--json", env=env).stdout)
    assert len(listing) == 1 and listing[0]["status"] == "ready" and listing[0]["mode"] == "ask"
    task_id = listing[0]["id"]
    shown = json.loads(run_taskyard("show", task_id[:4], "--json", env=env).stdout)
    agent_runs = [c for c in shown["commands"] if c["phase"] == "agent"]
    assert agent_runs[0]["command"] == ["python3", "-m", "unittest", "-q"]
    assert agent_runs[0]["exit_code"] == 1 and shown["final_message"] == "fails"
    human = run_taskyard("show", task_id, env=env)
    assert "exit 1" in human.stdout and "python3 -m unittest -q" in human.stdout


def test_image_build_command_builds_the_sandbox_image(tmp_path: Path) -> None:
    env = {**os.environ, "TASKYARD_HOME": str(tmp_path / "home")}
    tag = "taskyard-sandbox:build-test"
    result = run_taskyard("image", "build", "--tag", tag, env=env, timeout=1800)
    try:
        assert result.returncode == 0, result.stdout[-2000:] + result.stderr
        assert f"built {tag}" in result.stdout
        tools = subprocess.run(
            [
                "docker",
                "run",
                "--rm",
                tag,
                "sh",
                "-c",
                "git --version && rg --version && node --version && npm --version"
                " && jq --version && patch --version && python3 -m venv --help && gcc --version",
            ],
            capture_output=True,
            text=True,
        )
        assert tools.returncode == 0, tools.stderr
    finally:
        subprocess.run(["docker", "rmi", tag], capture_output=True)
