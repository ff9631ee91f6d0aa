"""Tasks through the engine on real Docker: phases, modes, limits and hostile input."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pytest

from engine.api import Engine, TaskRequest
from engine.views.events import Event
from engine.views.task import TaskRecord
from tests.support.agent_script import shell
from tests.support.engines import of_type, run_to_end, scripted_engine
from tests.support.model_server import Call, Reply, ScriptedModelServer
from tests.support.repos import FIX_PATCH, make_calc_repo

pytestmark = pytest.mark.usefixtures("docker_available")


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return make_calc_repo(tmp_path / "calc")


@dataclass
class Outcome:
    """A finished task with its engine, events and the model server that played it."""

    engine: Engine
    record: TaskRecord
    events: list[Event]
    server: ScriptedModelServer

    def tool_outputs(self) -> list[str]:
        """What the engine sent back to the model for each tool call, in order."""
        return self.server.requests[-1].tool_outputs()


async def run_script(
    tmp_path: Path,
    repo: Path,
    script: list[object],
    request: dict[str, object] | None = None,
    **config: object,
) -> Outcome:
    server = ScriptedModelServer(script).start()
    engine = scripted_engine(tmp_path / "home", server, **config)
    try:
        record, events = await run_to_end(
            engine, TaskRequest(prompt="do it", repo=str(repo), **(request or {}))
        )
    finally:
        server.stop()
    return Outcome(engine, record, events, server)


async def test_malformed_arguments_and_bad_patch_go_back_to_the_model(
    tmp_path: Path, repo: Path
) -> None:
    bad_patch = (
        "*** Begin Patch\n*** Update File: calc.py\n@@\n-    return a * b\n+    x\n*** End Patch"
    )
    script = [
        Reply(tool_calls=[Call("shell", "{not json")]),
        Reply(tool_calls=[Call("shell", {"command": "ls -la"})]),
        Reply(tool_calls=[Call("apply_patch", {"input": bad_patch})]),
        Reply(tool_calls=[Call("apply_patch", {"input": FIX_PATCH})]),
        Reply(text="done"),
    ]
    outcome = await run_script(tmp_path, repo, script)
    outputs = outcome.tool_outputs()
    assert outputs[0].startswith("error: arguments are not valid JSON")
    assert outputs[1].startswith("error: `command` must be a non-empty array of strings")
    assert outputs[2].startswith("error: patch not applied: Failed to find expected lines")
    assert outputs[3].startswith("Success.")
    assert outcome.record.status == "ready" and "+    return a + b" in outcome.record.diff
    assert len(of_type(outcome.events, "agent.tool_error")) == 2
    await outcome.engine.close()


async def test_command_timeout_kills_and_reports(tmp_path: Path, repo: Path) -> None:
    script = [
        Reply(tool_calls=[shell("bash", "-c", "echo started; sleep 60", timeout_ms=1500)]),
        Reply(text="it hung"),
    ]
    outcome = await run_script(tmp_path, repo, script)
    finished = of_type(outcome.events, "command.finished")[-1]
    assert finished.timed_out and finished.exit_code is None
    report = outcome.tool_outputs()[0]
    assert "exit_code: timeout (killed after 1.5s)" in report and "started" in report
    assert outcome.record.status == "ready"
    await outcome.engine.close()


async def test_binary_output_and_a_10mb_line_are_stored_whole(tmp_path: Path, repo: Path) -> None:
    script = [
        Reply(tool_calls=[shell("bash", "-c", "head -c 4096 /dev/urandom; echo")]),
        Reply(
            tool_calls=[shell("python3", "-c", "import sys; sys.stdout.write('x' * 10_000_000)")]
        ),
        Reply(text="ok"),
    ]
    outcome = await run_script(tmp_path, repo, script)
    commands = outcome.engine.commands(outcome.record.id)
    agent_commands = [c for c in commands if c.phase == "agent"]
    assert agent_commands[1].output_bytes == 10_000_000
    assert (
        outcome.engine.read_output(outcome.record.id, agent_commands[1].chunk_id)
        == b"x" * 10_000_000
    )
    assert agent_commands[0].output_bytes == 4097
    report = outcome.tool_outputs()[1]
    assert len(report) < 5000 and "characters elided" in report
    json.dumps([event.to_dict() for event in outcome.events])
    assert outcome.record.status == "ready"
    await outcome.engine.close()


async def test_setup_has_network_and_agent_phase_does_not(tmp_path: Path, repo: Path) -> None:
    script = [Reply(tool_calls=[shell("ls", "/sys/class/net")]), Reply(text="checked")]
    environments = {
        "default": {
            "setup": 'ls /sys/class/net > /tmp/setup-net; echo "$TOKEN" > /tmp/setup-token',
            "secrets": {"TOKEN": "s3cret"},
            "env": {"GREETING": "hi"},
        }
    }
    outcome = await run_script(tmp_path, repo, script, environments=environments)
    assert outcome.record.status == "ready", outcome.record.error
    setup = [c for c in outcome.engine.commands(outcome.record.id) if c.phase == "setup"]
    assert setup and setup[0].exit_code == 0
    assert of_type(outcome.events, "sandbox.network")[0].enabled is False
    agent_view = outcome.tool_outputs()[0]
    assert agent_view.splitlines()[-1] == "lo"
    await outcome.engine.close()


async def test_secrets_reach_setup_only(tmp_path: Path, repo: Path) -> None:
    script = [
        Reply(tool_calls=[shell("bash", "-c", 'cat /tmp/setup-token; echo "[$TOKEN] $GREETING"')]),
        Reply(text="checked"),
    ]
    environments = {
        "default": {
            "setup": 'echo "$TOKEN" > /tmp/setup-token',
            "secrets": {"TOKEN": "s3cret"},
            "env": {"GREETING": "hi"},
        }
    }
    outcome = await run_script(tmp_path, repo, script, environments=environments)
    assert "***TOKEN***\n[] hi" in outcome.tool_outputs()[0]
    await outcome.engine.close()


async def test_ca_bundle_is_handed_in(tmp_path: Path, repo: Path) -> None:
    bundle = tmp_path / "corp-ca.pem"
    bundle.write_text("-----BEGIN CERTIFICATE-----\nfake\n-----END CERTIFICATE-----\n")
    script = [
        Reply(
            tool_calls=[
                shell("bash", "-c", 'echo $SSL_CERT_FILE $PIP_CERT; cat "$NODE_EXTRA_CA_CERTS"')
            ]
        ),
        Reply(text="checked"),
    ]
    environments = {"default": {"ca_bundle": str(bundle)}}
    outcome = await run_script(tmp_path, repo, script, environments=environments)
    output = outcome.tool_outputs()[0]
    assert "/etc/taskyard/corp-ca.pem /etc/taskyard/corp-ca.pem" in output
    assert "BEGIN CERTIFICATE" in output
    await outcome.engine.close()


async def test_ask_mode_is_read_only_and_has_no_patch_tool(tmp_path: Path, repo: Path) -> None:
    script = [
        Reply(tool_calls=[shell("bash", "-c", "echo changed >> calc.py")]),
        Reply(tool_calls=[Call("apply_patch", {"input": FIX_PATCH})]),
        Reply(text="add() subtracts 【F:calc.py†L2】"),
    ]
    outcome = await run_script(tmp_path, repo, script, request={"mode": "ask"})
    tools = [
        tool.get("function", tool).get("name") for tool in outcome.server.requests[0].body["tools"]
    ]
    assert tools == ["shell"]
    outputs = outcome.tool_outputs()
    assert "Permission denied" in outputs[0]
    assert outputs[1].startswith("error: unknown tool 'apply_patch'")
    assert outcome.record.status == "ready" and outcome.record.diff == ""
    assert outcome.record.citations[0]["valid"] is True
    await outcome.engine.close()


async def test_turn_limit_stops_the_agent(tmp_path: Path, repo: Path) -> None:
    script = [Reply(tool_calls=[shell("true")]) for _ in range(3)]
    outcome = await run_script(tmp_path, repo, script, agent={"max_turns": 2})
    assert outcome.record.status == "failed" and "max_turns (2)" in outcome.record.error
    assert len(outcome.server.requests) == 2
    await outcome.engine.close()


async def test_cancel_keeps_the_output_and_tokens_so_far_and_stops_the_sandbox(
    tmp_path: Path, repo: Path
) -> None:
    waiting = ["bash", "-c", "echo started waiting; sleep 120"]
    server = ScriptedModelServer([Reply(tool_calls=[shell(*waiting)])]).start()
    engine = scripted_engine(tmp_path / "home", server)
    subscription = engine.subscribe()
    record = await engine.submit(TaskRequest(prompt="wait", repo=str(repo)))
    async for event in subscription:
        if event.type == "command.output" and "started waiting" in event.text:
            break
    await engine.cancel(record.id)
    server.stop()
    final = engine.task(record.id)
    assert final.status == "cancelled"
    assert final.usage == engine.store.total_usage(record.id) and final.usage["input_tokens"] > 0
    commands = engine.commands(record.id)
    assert commands[-1].command == waiting and commands[-1].finished is not None
    assert Path(commands[-1].log_path).read_text() == "started waiting\n"
    types = [event["type"] for event in engine.store.events(record.id)]
    assert types[-1] == "task.finished"
    await engine.close()


async def test_unknown_image_fails_with_a_hint(tmp_path: Path, repo: Path) -> None:
    outcome = await run_script(
        tmp_path, repo, [], request={"image": "taskyard-test/no-such-image:1"}
    )
    assert outcome.record.status == "failed"
    assert (
        "no-such-image" in outcome.record.error and "taskyard image build" in outcome.record.error
    )
    await outcome.engine.close()


async def test_another_engine_on_the_store_leaves_a_running_task_to_its_owner(
    tmp_path: Path, repo: Path
) -> None:
    script = [Reply(tool_calls=[Call("shell", {"command": ["sleep", "600"]})])]
    with ScriptedModelServer(script) as server:
        owner = scripted_engine(tmp_path / "home", server)
        subscription = owner.subscribe()
        task = await owner.submit(TaskRequest(prompt="wait", repo=str(repo)))
        async for event in subscription:
            if event.type == "command.started" and event.phase == "agent":
                break
        subscription.close()
        onlooker = scripted_engine(tmp_path / "home", server)
        seen = onlooker.task(task.id)
        await onlooker.close()
        await owner.cancel(task.id)
        await owner.close()
    assert seen.status == "running" and seen.error == ""
