"""Redaction without Docker: command output where it enters the engine, the model's tool
results, events, and the pull request's text."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from engine.agent.tools import ToolBox
from engine.delivery.forge_target import NO_GH_ENV
from engine.models.base import ToolCall
from engine.record.store import Store
from engine.run.commands import CommandRunner
from engine.secrets.values import Redactor, Secret
from engine.views.events import Event, PatchApplied
from sandboxes.base import SandboxSpec
from sandboxes.fake import FakeBackend, FakeSandbox
from tests.support.board import stored_engine
from tests.support.delivery import repo_with_remote, store_ready_task
from tests.support.forge_server import FakeForge, fake_forge

CANARY = "tyCanary/8d1f0c2a+ü="
SECRET = Secret("NPM_TOKEN", CANARY)
MARKER = "***NPM_TOKEN***"
FORGE_TOKEN = "forge-token"


@pytest.fixture
async def sandbox(tmp_path: Path) -> FakeSandbox:
    return await FakeBackend(tmp_path).create(SandboxSpec(image="debian:bookworm-slim"))


@pytest.fixture
def runner(tmp_path: Path) -> Iterator[tuple[CommandRunner, list[Event]]]:
    store = Store(tmp_path / "state.db")
    events: list[Event] = []
    commands = CommandRunner("t1", store, events.append, tmp_path / "logs", 50, 50)
    commands.redactor = Redactor([SECRET])
    yield commands, events
    store.close()


async def test_output_split_across_reads_is_redacted_before_it_is_stored_or_shown(
    tmp_path: Path, sandbox: FakeSandbox, runner: tuple[CommandRunner, list[Event]]
) -> None:
    commands, events = runner
    half = len(CANARY) // 2
    script = f"printf %s '{CANARY[:half]}'; sleep 0.3; printf '%s\\n' '{CANARY[half:]}'"
    outcome = await commands.run(
        sandbox, ["sh", "-c", script, CANARY], workdir="/workspace", phase="setup", timeout=10
    )
    log = (tmp_path / "logs" / "t1" / f"{outcome.chunk_id}.log").read_text()
    streamed = "".join(getattr(event, "text", "") for event in events)
    recorded = json.dumps([event.to_dict() for event in events], ensure_ascii=False)
    assert log == streamed == f"{MARKER}\n"
    assert outcome.output_view == MARKER
    assert CANARY not in recorded and MARKER in recorded


async def test_a_tool_result_and_its_event_carry_no_secret(
    sandbox: FakeSandbox, runner: tuple[CommandRunner, list[Event]]
) -> None:
    commands, events = runner
    tools = ToolBox(
        sandbox=sandbox,
        runner=commands,
        emit=lambda event: events.append(Redactor([SECRET]).redact_fields(event)),
        repo_dir="/workspace",
        workdir="/workspace",
        default_timeout=10,
        max_timeout=10,
        allow_patch=True,
        redactor=Redactor([SECRET]),
    )
    sandbox.host_path("/workspace/a.txt").write_text("x\n")
    patch = f"*** Begin Patch\n*** Update File: a.txt\n-{CANARY}\n+y\n*** End Patch"
    reply = await tools.call(ToolCall("c1", "apply_patch", json.dumps({"input": patch})))
    assert reply.startswith("error: patch not applied: Failed to find expected lines")
    assert CANARY not in reply and MARKER in reply
    [applied] = [event for event in events if isinstance(event, PatchApplied)]
    assert CANARY not in applied.summary and MARKER in applied.summary


@pytest.fixture
def forge(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeForge]:
    for name in ("GH_TOKEN", "GITHUB_TOKEN", "GITLAB_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv(NO_GH_ENV, "1")
    monkeypatch.setenv("GH_TOKEN", FORGE_TOKEN)
    with fake_forge(FORGE_TOKEN, repos=("acme/calc",)) as server:
        yield server


async def test_a_pull_request_never_carries_a_secret(
    tmp_path: Path, forge: FakeForge, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOST_NPM_TOKEN", CANARY)
    repo, _ = repo_with_remote(tmp_path)
    engine = stored_engine(
        tmp_path / "home",
        forge={"api_url": forge.github_url, "repo": "acme/calc"},
        environments={"default": {"secrets": {"NPM_TOKEN": "env:HOST_NPM_TOKEN"}}},
    )
    encoded = base64.b64encode(CANARY.encode()).decode()
    store_ready_task(engine, repo, "aaaa0001", final_message=f"Used {CANARY} and {encoded}.")
    await engine.open_pull_request("aaaa0001")
    [create] = forge.requests
    sent = json.dumps(create.body, ensure_ascii=False)
    assert CANARY not in sent and encoded[:-4] not in sent
    assert f"Used {MARKER} and {MARKER}" in create.body["body"]
    await engine.close()
