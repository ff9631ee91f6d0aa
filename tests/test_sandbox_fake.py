"""FakeBackend and FakeSandbox: host directories and local processes standing for containers."""

from __future__ import annotations

import asyncio
import os
import select
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from sandboxes.base import (
    MANAGED_LABEL,
    BackendUnavailable,
    ImageNotFound,
    SandboxError,
    SandboxSpec,
)
from sandboxes.fake import FakeBackend, FakeExec, FakeSandbox
from tests.support.output import Output

IMAGE = "debian:bookworm-slim"


@pytest.fixture
def backend(tmp_path: Path) -> FakeBackend:
    return FakeBackend(tmp_path)


@pytest.fixture
async def sandbox(backend: FakeBackend) -> AsyncIterator[FakeSandbox]:
    box = await backend.create(SandboxSpec(image=IMAGE, labels={"task": "t1"}, env={"BASE": "1"}))
    yield box
    await box.remove()


def exits_soon(pid: int) -> bool:
    """Whether process pid has exited or does within five seconds (pidfd readiness, no polling)."""
    try:
        pidfd = os.pidfd_open(pid)
    except ProcessLookupError:
        return True
    try:
        readable, _, _ = select.select([pidfd], [], [], 5)
    finally:
        os.close(pidfd)
    return bool(readable)


async def test_exec_runs_in_the_mapped_workdir(sandbox: FakeSandbox) -> None:
    output = Output()
    result = await sandbox.exec(["pwd"], on_output=output)
    assert result.exit_code == 0
    assert output.data.decode().strip() == str(sandbox.root / "workspace")


async def test_exec_merges_output_reports_exit_code_and_records_the_call(
    sandbox: FakeSandbox,
) -> None:
    output = Output()
    script = 'echo one; echo "$BASE$EXTRA" >&2; exit 4'
    await sandbox.write_file("/tmp/here/.keep", b"")
    result = await sandbox.exec(
        ["sh", "-c", script],
        workdir="/tmp/here",
        env={"EXTRA": "2"},
        user="65534",
        on_output=output,
    )
    assert (result.exit_code, result.timed_out) == (4, False)
    assert output.data == b"one\n12\n"
    assert sandbox.execs == [
        FakeExec(["sh", "-c", script], "/tmp/here", {"BASE": "1", "EXTRA": "2"}, "65534")
    ]
    assert sandbox.exec_calls == [["sh", "-c", script]]


async def test_a_host_file_is_the_commands_input(sandbox: FakeSandbox, tmp_path: Path) -> None:
    source = tmp_path / "input.bin"
    source.write_bytes(bytes(range(256)) * 1000)
    output = Output()
    result = await sandbox.exec(["wc", "-c"], stdin_path=str(source), on_output=output)
    assert result.exit_code == 0
    assert output.data.decode().strip() == "256000"
    assert sandbox.execs[-1].stdin_path == str(source)


async def test_exec_streams_before_the_command_ends(sandbox: FakeSandbox) -> None:
    output = Output(marker=b"ready\n")
    script = "echo ready; while [ ! -e go ]; do sleep 0.01; done; echo done"
    command = asyncio.create_task(sandbox.exec(["sh", "-c", script], on_output=output))
    await output.seen_marker.wait()
    assert not command.done()
    await sandbox.write_file("/workspace/go", b"")
    assert (await command).exit_code == 0
    assert output.data == b"ready\ndone\n"


async def test_missing_command_and_missing_workdir(sandbox: FakeSandbox) -> None:
    output = Output()
    assert (await sandbox.exec(["no-such-command-here"], on_output=output)).exit_code == 127
    assert b"not found" in output.data
    assert (await sandbox.exec(["pwd"], workdir="/nope")).exit_code == 126


async def test_timeout_kills_the_process_group(sandbox: FakeSandbox) -> None:
    script = "sleep 300 & echo $! $$ > pids; sleep 300"
    result = await sandbox.exec(["sh", "-c", script], timeout=0.5)
    assert (result.exit_code, result.timed_out) == (None, True)
    assert result.duration >= 0.5
    pids = (await sandbox.read_file("/workspace/pids")).split()
    assert all(exits_soon(int(pid)) for pid in pids)


async def test_cancellation_kills_the_process_group(sandbox: FakeSandbox) -> None:
    output = Output(marker=b"started\n")
    script = "sleep 300 & echo $! $$ > pids; echo started; sleep 300"
    command = asyncio.create_task(sandbox.exec(["sh", "-c", script], on_output=output))
    await output.seen_marker.wait()
    command.cancel()
    with pytest.raises(asyncio.CancelledError):
        await command
    pids = (await sandbox.read_file("/workspace/pids")).split()
    assert all(exits_soon(int(pid)) for pid in pids)


async def test_file_operations_map_under_the_root(sandbox: FakeSandbox) -> None:
    await sandbox.write_file("/workspace/a/b.bin", b"\x00\xff", mode=0o600)
    assert (sandbox.root / "workspace/a/b.bin").read_bytes() == b"\x00\xff"
    assert (sandbox.root / "workspace/a/b.bin").stat().st_mode & 0o777 == 0o600
    assert await sandbox.read_file("/workspace/a/b.bin") == b"\x00\xff"
    assert sandbox.host_path("/../../etc/passwd") == sandbox.root / "etc/passwd"
    with pytest.raises(FileNotFoundError):
        await sandbox.read_file("/workspace/missing")
    with pytest.raises(IsADirectoryError):
        await sandbox.read_file("/workspace")
    with pytest.raises(SandboxError, match="absolute"):
        await sandbox.read_file("workspace/a/b.bin")


async def test_copy_in_and_out(sandbox: FakeSandbox, tmp_path: Path) -> None:
    source = tmp_path / "in.txt"
    source.write_bytes(b"payload")
    await sandbox.copy_in(str(source), "/data/new")
    assert await sandbox.read_file("/data/new/in.txt") == b"payload"
    await sandbox.copy_out("/data/new/in.txt", str(tmp_path / "out" / "copy.txt"))
    assert (tmp_path / "out" / "copy.txt").read_bytes() == b"payload"


async def test_network_state_is_recorded(backend: FakeBackend, sandbox: FakeSandbox) -> None:
    assert sandbox.network_enabled
    await sandbox.set_network(False)
    assert not sandbox.network_enabled
    offline = await backend.create(SandboxSpec(image=IMAGE, network=False))
    assert not offline.network_enabled


async def test_stop_start_remove(backend: FakeBackend, sandbox: FakeSandbox) -> None:
    await sandbox.stop()
    with pytest.raises(SandboxError, match="not running"):
        await sandbox.exec(["true"])
    await sandbox.start()
    assert (await sandbox.exec(["true"])).exit_code == 0
    await sandbox.remove()
    assert not sandbox.root.exists()
    with pytest.raises(SandboxError):
        await backend.attach(sandbox.id)


async def test_list_and_attach(backend: FakeBackend, sandbox: FakeSandbox) -> None:
    other = await backend.create(SandboxSpec(image=IMAGE, labels={"task": "t2"}, name="other"))
    listed = await backend.list({"task": "t1"})
    assert [info.id for info in listed] == [sandbox.id]
    assert listed[0].labels == {"task": "t1", MANAGED_LABEL: "true"}
    assert {info.name for info in await backend.list()} == {sandbox.name, "other"}
    assert await backend.attach(other.id) is other


async def test_images_and_availability(tmp_path: Path) -> None:
    backend = FakeBackend(tmp_path, images=set())
    with pytest.raises(ImageNotFound):
        await backend.create(SandboxSpec(image="taskyard-sandbox:latest"))
    output = Output()
    await backend.build_image("taskyard-sandbox:latest", on_output=output)
    assert await backend.has_image("taskyard-sandbox:latest")
    assert b"taskyard-sandbox:latest" in output.data
    with pytest.raises(BackendUnavailable):
        await FakeBackend(tmp_path, available=False).ping()
