"""The disk watch: work stopped once its sandbox writes past [sandbox] disk."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from engine.run.disk_watch import DiskLimit, DiskLimitExceeded, within_disk_limit
from sandboxes.base import SandboxSpec
from sandboxes.fake import FakeBackend, FakeSandbox

LIMIT = DiskLimit("1m", check_seconds=0.01)


@pytest.fixture
async def sandbox(tmp_path: Path) -> FakeSandbox:
    return await FakeBackend(tmp_path).create(SandboxSpec(image="debian:bookworm-slim"))


async def test_work_past_the_limit_is_stopped_with_what_was_written(sandbox: FakeSandbox) -> None:
    await sandbox.write_file("/workspace/big.bin", b"x" * 2 * 1024 * 1024)
    with pytest.raises(DiskLimitExceeded) as raised:
        await within_disk_limit(asyncio.Event().wait(), sandbox, LIMIT)
    assert str(raised.value) == (
        "the sandbox wrote 2.0 MiB, past [sandbox] disk = 1m: raise [sandbox] disk, "
        "or ask for work that writes less"
    )


async def test_work_within_the_limit_returns_its_result(sandbox: FakeSandbox) -> None:
    async def work() -> str:
        await asyncio.sleep(0.05)
        return "done"

    assert await within_disk_limit(work(), sandbox, LIMIT) == "done"


async def test_a_cancel_from_outside_stays_a_cancel(sandbox: FakeSandbox) -> None:
    started = asyncio.Event()

    async def work() -> None:
        started.set()
        await asyncio.Event().wait()

    job = asyncio.create_task(within_disk_limit(work(), sandbox, LIMIT))
    await started.wait()
    job.cancel()
    with pytest.raises(asyncio.CancelledError):
        await job
