"""DockerBackend and DockerSandbox against a real Docker engine."""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import docker
import pytest
from docker.api.client import APIClient

import sandboxes.docker as docker_module
from sandboxes.base import (
    MANAGED_LABEL,
    BackendUnavailable,
    ImageNotFound,
    RuntimeNotInstalled,
    SandboxError,
    SandboxSpec,
)
from sandboxes.docker import DockerBackend, DockerSandbox, default_image_tag
from sandboxes.docker_exec import RUN_DIR
from tests.support.output import Output

pytestmark = pytest.mark.docker

BASE_IMAGE = "debian:bookworm-slim"
TEST_LABEL = "dev.taskyard.test-run"
EXPECTED_CAPABILITIES = 0x4FB
"""CHOWN, DAC_OVERRIDE, FOWNER, FSETID, KILL, SETGID, SETUID, NET_BIND_SERVICE."""

NOT_ALIVE_SCRIPT = (
    'for pid in $(cat "$1"); do '
    '[ -d /proc/$pid ] && ! grep -q "^State:.*Z" /proc/$pid/status && exit 1; '
    "done; exit 0"
)
"""Exits 0 when none of the pids listed in file $1 is a live (non-zombie) process."""


@pytest.fixture(scope="module")
def run_label() -> dict[str, str]:
    return {TEST_LABEL: uuid.uuid4().hex}


@pytest.fixture
def backend(docker_available: None) -> DockerBackend:
    return DockerBackend()


@pytest.fixture
async def sandbox(
    backend: DockerBackend, run_label: dict[str, str]
) -> AsyncIterator[DockerSandbox]:
    box = await backend.create(SandboxSpec(image=BASE_IMAGE, labels=run_label))
    yield box
    await box.remove()


@pytest.fixture
async def offline_sandbox(
    backend: DockerBackend, run_label: dict[str, str]
) -> AsyncIterator[DockerSandbox]:
    box = await backend.create(SandboxSpec(image=BASE_IMAGE, labels=run_label, network=False))
    yield box
    await box.remove()


@pytest.fixture
def docker_client(docker_available: None) -> Iterator[docker.DockerClient]:
    client = docker.from_env()
    yield client
    client.close()


async def run_text(
    box: DockerSandbox,
    argv: list[str],
    *,
    workdir: str | None = None,
    env: dict[str, str] | None = None,
    user: str | None = None,
) -> str:
    output = Output()
    result = await box.exec(argv, workdir=workdir, env=env, user=user, on_output=output)
    assert result.exit_code == 0, output.data
    return output.data.decode()


async def assert_pids_gone(box: DockerSandbox, pid_file: str) -> None:
    output = Output()
    result = await box.exec(["sh", "-c", NOT_ALIVE_SCRIPT, "sh", pid_file], on_output=output)
    assert result.exit_code == 0, "a process of the killed command is still alive"


async def test_exec_reports_exit_code_and_duration(sandbox: DockerSandbox) -> None:
    result = await sandbox.exec(["sh", "-c", "exit 7"])
    assert result.exit_code == 7
    assert not result.timed_out
    assert 0 < result.duration < 30


async def test_exec_merges_stdout_and_stderr_in_order(sandbox: DockerSandbox) -> None:
    output = Output()
    script = "echo one; echo two >&2; echo three; echo four >&2"
    await sandbox.exec(["sh", "-c", script], on_output=output)
    assert output.data == b"one\ntwo\nthree\nfour\n"


def container_shell(box: DockerSandbox, script: str) -> str:
    """Run a script in the container directly, outside taskyard's command wrapper."""
    result = docker.from_env().containers.get(box.id).exec_run(["sh", "-c", script])
    assert result.exit_code == 0 and isinstance(result.output, bytes), result.output
    return result.output.decode()


async def test_a_command_keeps_a_copy_of_its_output_until_the_next_one_runs(
    sandbox: DockerSandbox,
) -> None:
    await sandbox.exec(["sh", "-c", "echo kept; exit 4"])
    copy = container_shell(sandbox, f"cat {RUN_DIR}/*/log {RUN_DIR}/*/status")
    assert copy == "kept\n4\n"
    await sandbox.exec(["true"])
    assert container_shell(sandbox, f"ls {RUN_DIR} | wc -l").strip() == "1"


async def test_exec_streams_output_before_the_command_ends(sandbox: DockerSandbox) -> None:
    output = Output(marker=b"ready\n")
    script = "echo ready; while [ ! -e /tmp/go ]; do sleep 0.05; done; echo done"
    command = asyncio.create_task(sandbox.exec(["sh", "-c", script], on_output=output))
    await output.seen_marker.wait()
    assert not command.done()
    await sandbox.write_file("/tmp/go", b"")
    result = await command
    assert result.exit_code == 0
    assert output.data == b"ready\ndone\n"


async def test_missing_command_exits_127_with_a_message(sandbox: DockerSandbox) -> None:
    output = Output()
    result = await sandbox.exec(["no-such-command-here"], on_output=output)
    assert result.exit_code == 127
    assert b"not found" in output.data


async def test_exec_uses_workdir_env_and_user(sandbox: DockerSandbox) -> None:
    text = await run_text(
        sandbox,
        ["sh", "-c", 'pwd; echo "$GREETING"; id -u'],
        workdir="/tmp",
        env={"GREETING": "hello there"},
        user="65534:65534",
    )
    assert text == "/tmp\nhello there\n65534\n"


async def test_default_workdir_is_the_spec_workdir(sandbox: DockerSandbox) -> None:
    assert await run_text(sandbox, ["pwd"]) == "/workspace\n"


async def test_timeout_kills_the_whole_process_group(sandbox: DockerSandbox) -> None:
    script = "sleep 300 & echo $! $$ > /tmp/pids; echo started; sleep 300"
    output = Output()
    result = await sandbox.exec(["sh", "-c", script], timeout=1, on_output=output)
    assert result.timed_out
    assert result.exit_code is None
    assert 1 <= result.duration < 15
    assert output.data == b"started\n"
    await assert_pids_gone(sandbox, "/tmp/pids")


async def test_cancellation_kills_the_command(sandbox: DockerSandbox) -> None:
    output = Output(marker=b"started\n")
    script = "sleep 300 & echo $! $$ > /tmp/pids; echo started; sleep 300"
    command = asyncio.create_task(sandbox.exec(["sh", "-c", script], on_output=output))
    await output.seen_marker.wait()
    command.cancel()
    with pytest.raises(asyncio.CancelledError):
        await command
    await assert_pids_gone(sandbox, "/tmp/pids")


async def test_concurrent_execs_keep_their_own_output(sandbox: DockerSandbox) -> None:
    outputs = [Output() for _ in range(6)]
    await asyncio.gather(
        *(
            sandbox.exec(["sh", "-c", f"for i in 1 2 3; do echo {n}-$i; done"], on_output=out)
            for n, out in enumerate(outputs)
        )
    )
    for n, out in enumerate(outputs):
        assert out.data == f"{n}-1\n{n}-2\n{n}-3\n".encode()


async def test_binary_output_arrives_unchanged(sandbox: DockerSandbox) -> None:
    every_byte = bytes(range(256)) * 4
    await sandbox.write_file("/tmp/bytes.bin", every_byte)
    output = Output()
    await sandbox.exec(["cat", "/tmp/bytes.bin"], on_output=output)
    assert output.data == every_byte


async def test_ten_megabyte_line_without_newline_arrives_complete(sandbox: DockerSandbox) -> None:
    size = 10 * 1024 * 1024
    output = Output()
    script = f"head -c {size} /dev/zero | tr '\\000' x"
    result = await sandbox.exec(["sh", "-c", script], on_output=output)
    assert result.exit_code == 0
    assert output.data == b"x" * size


async def test_a_host_file_is_the_commands_input_to_its_end(
    sandbox: DockerSandbox, tmp_path: Path
) -> None:
    source = tmp_path / "input.bin"
    source.write_bytes(bytes(range(256)) * 12289)
    output = Output()
    script = "cat > /tmp/received.bin; sha256sum < /tmp/received.bin"
    result = await sandbox.exec(["sh", "-c", script], stdin_path=str(source), on_output=output)
    assert result.exit_code == 0, output.data
    assert output.data.decode().split()[0] == hashlib.sha256(source.read_bytes()).hexdigest()


async def test_a_command_that_ends_without_reading_its_input_ends(
    sandbox: DockerSandbox, tmp_path: Path
) -> None:
    source = tmp_path / "input.bin"
    source.write_bytes(b"x" * (8 * 1024 * 1024))
    result = await sandbox.exec(["sh", "-c", "exit 3"], stdin_path=str(source), timeout=60)
    assert (result.exit_code, result.timed_out) == (3, False)
    assert await run_text(sandbox, ["echo", "after"]) == "after\n"


async def test_a_missing_input_file_is_refused_before_the_command_runs(
    sandbox: DockerSandbox, tmp_path: Path
) -> None:
    with pytest.raises(FileNotFoundError):
        await sandbox.exec(["touch", "/tmp/ran"], stdin_path=str(tmp_path / "missing"))
    assert await run_text(sandbox, ["sh", "-c", "test -e /tmp/ran || echo absent"]) == "absent\n"


async def test_write_and_read_a_binary_file_in_new_directories(sandbox: DockerSandbox) -> None:
    data = bytes(range(256)) * 100
    await sandbox.write_file("/tmp/new/nested/dir/data.bin", data, mode=0o600)
    assert await sandbox.read_file("/tmp/new/nested/dir/data.bin") == data
    modes = await run_text(sandbox, ["stat", "-c", "%a %U", "/tmp", "/tmp/new/nested/dir/data.bin"])
    assert modes == "1777 root\n600 root\n"


async def test_read_file_errors(sandbox: DockerSandbox) -> None:
    with pytest.raises(FileNotFoundError):
        await sandbox.read_file("/workspace/missing.txt")
    with pytest.raises(IsADirectoryError):
        await sandbox.read_file("/workspace")
    with pytest.raises(SandboxError, match="absolute"):
        await sandbox.read_file("relative/path")


async def test_read_file_follows_symlinks(sandbox: DockerSandbox) -> None:
    await sandbox.write_file("/workspace/target.txt", b"through the link")
    await run_text(sandbox, ["ln", "-s", "target.txt", "/workspace/link.txt"])
    assert await sandbox.read_file("/workspace/link.txt") == b"through the link"


async def test_copy_in_and_copy_out(sandbox: DockerSandbox, tmp_path: Path) -> None:
    source = tmp_path / "bundle.bin"
    source.write_bytes(bytes(range(256)) * 4096)
    await sandbox.copy_in(str(source), "/data/incoming")
    listing = await run_text(sandbox, ["stat", "-c", "%s %U", "/data/incoming/bundle.bin"])
    assert listing == f"{source.stat().st_size} root\n"
    target = tmp_path / "back" / "bundle.bin"
    await sandbox.copy_out("/data/incoming/bundle.bin", str(target))
    assert target.read_bytes() == source.read_bytes()


async def test_set_network_off_leaves_only_loopback(sandbox: DockerSandbox) -> None:
    assert (await run_text(sandbox, ["ls", "/sys/class/net"])).split() != ["lo"]
    await sandbox.set_network(False)
    assert (await run_text(sandbox, ["ls", "/sys/class/net"])).split() == ["lo"]
    await sandbox.set_network(True)
    interfaces = (await run_text(sandbox, ["ls", "/sys/class/net"])).split()
    assert "lo" in interfaces
    assert len(interfaces) == 2


async def test_sandbox_created_offline_has_only_loopback(offline_sandbox: DockerSandbox) -> None:
    assert (await run_text(offline_sandbox, ["ls", "/sys/class/net"])).split() == ["lo"]
    await offline_sandbox.set_network(True)
    assert len((await run_text(offline_sandbox, ["ls", "/sys/class/net"])).split()) == 2


async def test_list_filters_by_labels_and_reports_status(
    backend: DockerBackend, sandbox: DockerSandbox, run_label: dict[str, str]
) -> None:
    found = {info.id: info for info in await backend.list(run_label)}
    assert found[sandbox.id].status == "running"
    assert found[sandbox.id].labels[MANAGED_LABEL] == "true"
    assert await backend.list({TEST_LABEL: "no-such-run"}) == []
    await sandbox.stop()
    found = {info.id: info for info in await backend.list(run_label)}
    assert found[sandbox.id].status == "exited"


async def test_stop_keeps_files_and_start_resumes(sandbox: DockerSandbox) -> None:
    await sandbox.write_file("/workspace/kept.txt", b"kept")
    await sandbox.stop()
    with pytest.raises(SandboxError, match="not running"):
        await sandbox.exec(["true"])
    await sandbox.start()
    assert await run_text(sandbox, ["cat", "/workspace/kept.txt"]) == "kept"


async def test_attach_by_short_id(backend: DockerBackend, sandbox: DockerSandbox) -> None:
    attached = await backend.attach(sandbox.id[:12])
    assert attached.id == sandbox.id
    assert await run_text(attached, ["echo", "attached"]) == "attached\n"


async def test_attach_refuses_missing_and_foreign_containers(
    backend: DockerBackend, docker_client: docker.DockerClient
) -> None:
    with pytest.raises(SandboxError, match="not found"):
        await backend.attach("taskyard-no-such-container")
    foreign = docker_client.containers.create(BASE_IMAGE, ["sleep", "infinity"])
    try:
        with pytest.raises(SandboxError, match="not a taskyard sandbox"):
            await backend.attach(foreign.id or "")
    finally:
        foreign.remove(force=True)


async def test_container_is_hardened(
    sandbox: DockerSandbox, docker_client: docker.DockerClient
) -> None:
    status = await run_text(sandbox, ["cat", "/proc/self/status"])
    fields = dict(line.split(":\t", 1) for line in status.splitlines() if ":\t" in line)
    assert fields["NoNewPrivs"].strip() == "1"
    assert int(fields["CapEff"], 16) == EXPECTED_CAPABILITIES
    pids_max = await run_text(
        sandbox,
        ["sh", "-c", "cat /sys/fs/cgroup/pids/pids.max 2>/dev/null || cat /sys/fs/cgroup/pids.max"],
    )
    assert pids_max.strip() == str(SandboxSpec(image=BASE_IMAGE).pids_limit)
    assert (await run_text(sandbox, ["cat", "/proc/1/cmdline"])).startswith("/sbin/docker-init")
    host_config = docker_client.api.inspect_container(sandbox.id)["HostConfig"]
    assert host_config["Memory"] == 4 * 1024**3
    assert host_config["CapDrop"] == ["ALL"]


async def test_root_can_still_chown_and_kill(sandbox: DockerSandbox) -> None:
    script = "touch /tmp/owned && chown 65534:65534 /tmp/owned && stat -c %u /tmp/owned"
    assert await run_text(sandbox, ["sh", "-c", script]) == "65534\n"


async def test_limits_follow_the_spec(
    backend: DockerBackend, run_label: dict[str, str], docker_client: docker.DockerClient
) -> None:
    spec = SandboxSpec(image=BASE_IMAGE, labels=run_label, memory="256m", pids_limit=64, cpus=0.5)
    box = await backend.create(spec)
    try:
        host_config = docker_client.api.inspect_container(box.id)["HostConfig"]
        assert host_config["Memory"] == 256 * 1024**2
        assert host_config["PidsLimit"] == 64
        assert host_config["NanoCpus"] == 500_000_000
    finally:
        await box.remove()


async def test_missing_image_raises_image_not_found(backend: DockerBackend) -> None:
    image = "taskyard-test-missing:never"
    with pytest.raises(ImageNotFound, match=r"image taskyard-test-missing:never not found on "):
        await backend.create(SandboxSpec(image=image))
    assert not await backend.has_image(image)
    assert await backend.has_image(BASE_IMAGE)


async def test_the_engine_is_asked_once_for_its_info_and_again_for_a_runtime_it_lacked(
    backend: DockerBackend, run_label: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    asked: list[None] = []
    info = APIClient.info

    def counted(api: APIClient) -> dict[str, Any]:
        asked.append(None)
        result: dict[str, Any] = info(api)
        return result

    monkeypatch.setattr(APIClient, "info", counted)
    for _ in range(2):
        await (await backend.create(SandboxSpec(image=BASE_IMAGE, labels=run_label))).remove()
    assert len(asked) == 1
    with pytest.raises(RuntimeNotInstalled):
        spec = SandboxSpec(image=BASE_IMAGE, labels=run_label, runtime="taskyard-no-such-runtime")
        await backend.create(spec)
    assert len(asked) == 2
    assert "runc" in await backend.runtimes()
    assert len(asked) == 3


async def test_unreachable_daemon_raises_backend_unavailable(tmp_path: Path) -> None:
    base_url = f"unix://{tmp_path}/no-docker.sock"
    with pytest.raises(BackendUnavailable, match="set DOCKER_HOST") as raised:
        await DockerBackend(base_url).ping()
    assert str(raised.value).startswith(f"Docker is not reachable at {base_url}: start the Docker")


async def test_build_image_streams_the_log(
    backend: DockerBackend, docker_client: docker.DockerClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    dockerfile = f"FROM {BASE_IMAGE}\nRUN echo built-by-taskyard-test\n".encode()
    monkeypatch.setattr(docker_module, "dockerfile_bytes", lambda: dockerfile)
    tag = f"taskyard-test-build:{uuid.uuid4().hex[:8]}"
    output = Output()
    try:
        await backend.build_image(tag, on_output=output)
        assert await backend.has_image(tag)
    finally:
        docker_client.images.remove(tag, force=True)
    assert b"built-by-taskyard-test" in output.data


async def test_build_image_failure_names_the_failing_step(
    backend: DockerBackend, monkeypatch: pytest.MonkeyPatch
) -> None:
    dockerfile = f"FROM {BASE_IMAGE}\nRUN echo about to fail && exit 3\n".encode()
    monkeypatch.setattr(docker_module, "dockerfile_bytes", lambda: dockerfile)
    with pytest.raises(SandboxError, match=r"building taskyard-test-fail:x failed: .*code: 3"):
        await backend.build_image("taskyard-test-fail:x")


async def test_bundled_image_builds_with_the_agent_toolbox(
    backend: DockerBackend, run_label: dict[str, str]
) -> None:
    await backend.build_image(default_image_tag())
    box = await backend.create(SandboxSpec(image=default_image_tag(), labels=run_label))
    try:
        tools = [
            "git",
            "python3",
            "pip3",
            "gcc",
            "make",
            "curl",
            "rg",
            "node",
            "npm",
            "jq",
            "patch",
            "ps",
            "setsid",
            "less",
        ]
        found = await run_text(
            box, ["sh", "-c", 'for t in "$@"; do command -v $t; done', "sh", *tools]
        )
        assert len(found.splitlines()) == len(tools)
        settings = await run_text(box, ["git", "config", "--system", "--list"])
        assert "safe.directory=*" in settings
        assert "init.defaultbranch=main" in settings
        assert await run_text(box, ["python3", "-m", "venv", "/tmp/venv"]) == ""
    finally:
        await box.remove()
