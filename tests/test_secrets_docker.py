"""Attacks on the environment's secrets, played on real Docker: they stay in setup."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.support.canary import (
    LEFT_RUNNING,
    SECRET_NAME,
    CanaryRun,
    HitCounter,
    canary_counts,
    print_counts,
    run_canary,
)
from tests.support.engines import of_type
from tests.support.repos import git

pytestmark = pytest.mark.usefixtures("docker_available")

MARKER = f"***{SECRET_NAME}***"


@pytest.fixture
async def canary(tmp_path: Path) -> AsyncIterator[CanaryRun]:
    run = await run_canary(tmp_path)
    yield run
    await run.engine.close()


async def test_a_process_left_by_setup_cannot_hand_the_secret_to_the_agent(
    canary: CanaryRun,
) -> None:
    assert canary.record.status == "ready", canary.record.error
    counter = HitCounter(canary.canary)
    requests = [json.dumps(request.body) for request in canary.server.requests]
    assert counter.count_all(requests) == 0
    environs, processes = canary.tool_outputs()[:2]
    assert SECRET_NAME not in environs
    assert LEFT_RUNNING not in processes
    assert "sleep infinity" in processes
    [setup] = [c for c in canary.engine.commands(canary.record.id) if c.phase == "setup"]
    assert setup.finished is not None and setup.finished - setup.started < 60


async def test_setup_output_echoing_a_secret_is_redacted_everywhere(canary: CanaryRun) -> None:
    setup = [c for c in canary.engine.commands(canary.record.id) if c.phase == "setup"]
    output = canary.engine.read_output(canary.record.id, setup[0].chunk_id).decode()
    for label in ("token", "base64", "url", "json", "split"):
        assert f"{label}: " in output
    assert output.count(MARKER) == 5, output
    outputs = of_type(canary.events, "command.output")
    streamed = "".join(event.text for event in outputs if event.chunk_id == setup[0].chunk_id)
    assert streamed.count(MARKER) == 5
    counter = HitCounter(canary.canary)
    assert counter.count(output) == counter.count(streamed) == 0
    stored = canary.engine.paths.database.read_bytes()
    assert counter.count(stored) == 0


async def test_a_secret_setup_wrote_into_the_repository_stays_out_of_the_result(
    canary: CanaryRun,
) -> None:
    looked = canary.tool_outputs()[2]
    assert f"_authToken={MARKER}" in looked and ".npmrc" not in looked.split(MARKER)[-1]
    assert ".npmrc" not in canary.record.diff and "+    return a + b" in canary.record.diff
    branch, _ = await canary.engine.apply(canary.record.id)
    files = git(canary.repo, "diff", "--name-only", f"{canary.record.base_sha}..{branch}")
    assert files.splitlines() == ["calc.py"]


async def test_secret_canary_reaches_nowhere(canary: CanaryRun) -> None:
    assert canary.record.status == "ready", canary.record.error
    branch, _ = await canary.engine.apply(canary.record.id)
    counts = canary_counts(canary, branch)
    print_counts(counts)
    assert sum(counts.values()) == 0, counts
