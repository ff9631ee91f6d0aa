"""DockerTunnel through a real OpenSSH sshd in front of the real Docker engine."""

from __future__ import annotations

import asyncio
import hashlib
import os
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import asyncssh
import docker
import pytest

from sandboxes.base import BackendUnavailable, SandboxSpec
from sandboxes.docker import DockerBackend, DockerSandbox
from sandboxes.ssh import (
    ConnectSettings,
    DockerTunnel,
    HostKeyError,
    ReconnectPolicy,
    SshAuthError,
    SshTarget,
    SshUnreachable,
    TunnelDown,
    TunnelState,
    parse_ssh_target,
)
from tests.support.output import Output
from tests.support.sshd import SshServer, free_port, generate_key

BASE_IMAGE = "debian:bookworm-slim"
QUICK_RECONNECT = ReconnectPolicy(first_delay=0.05, max_delay=0.2, max_attempts=8, max_total=2.0)
SETTLE = 20.0
"""Upper bound on waiting for a state change; tests wait on the change itself."""


def target_of(server: SshServer, **files: Path) -> SshTarget:
    """The server's target with its user key and known_hosts, overridable per test."""
    settings = {"identity_file": server.user_key, "known_hosts": server.known_hosts, **files}
    return parse_ssh_target(server.target, **settings)


def tunnel_to(target: SshTarget) -> DockerTunnel:
    return DockerTunnel(
        target, settings=ConnectSettings(connect_timeout=5), reconnect=QUICK_RECONNECT
    )


@pytest.fixture
async def tunnel(sshd: SshServer, docker_available: None) -> AsyncIterator[DockerTunnel]:
    async with tunnel_to(target_of(sshd)) as opened:
        yield opened


@pytest.fixture
async def sandbox(tunnel: DockerTunnel, tmp_path: Path) -> AsyncIterator[DockerSandbox]:
    backend = DockerBackend(base_url=tunnel.base_url)
    box = await backend.create(
        SandboxSpec(image=BASE_IMAGE, labels={"dev.taskyard.home": str(tmp_path)})
    )
    yield box
    await box.remove()


def record_states(tunnel: DockerTunnel) -> list[TunnelState]:
    states: list[TunnelState] = []
    tunnel.add_listener(lambda state, _error: states.append(state))
    return states


def fingerprint_of(public_key: Path) -> str:
    return asyncssh.read_public_key(str(public_key)).get_fingerprint("sha256")


def counting_script(lines: int, pause: float) -> list[str]:
    return ["sh", "-c", f'for i in $(seq 1 {lines}); do echo "line $i"; sleep {pause}; done']


def expected_lines(lines: int) -> bytes:
    return b"".join(b"line %d\n" % number for number in range(1, lines + 1))


async def test_docker_api_and_a_container_through_the_tunnel(
    tunnel: DockerTunnel, sandbox: DockerSandbox
) -> None:
    assert tunnel.state == "connected"
    assert tunnel.base_url.startswith("unix:///") and tunnel.base_url.endswith("/docker.sock")
    socket_dir = Path(tunnel.base_url.removeprefix("unix://")).parent
    assert socket_dir.stat().st_mode & 0o777 == 0o700
    client = await asyncio.to_thread(docker.DockerClient, base_url=tunnel.base_url)
    assert await asyncio.to_thread(client.ping)
    assert "ApiVersion" in await asyncio.to_thread(client.version)
    client.close()
    output = Output()
    result = await sandbox.exec(["sh", "-c", "echo out; echo err >&2; exit 3"], on_output=output)
    assert (result.exit_code, output.data) == (3, b"out\nerr\n")


async def test_files_round_trip_through_the_tunnel(sandbox: DockerSandbox) -> None:
    payload = os.urandom(4 * 1024 * 1024)
    await sandbox.write_file("/tmp/blob.bin", payload)
    assert await sandbox.read_file("/tmp/blob.bin") == payload


async def test_a_commands_input_goes_through_the_tunnel_to_its_end(
    sandbox: DockerSandbox, tmp_path: Path
) -> None:
    source = tmp_path / "input.bin"
    source.write_bytes(os.urandom(3 * 1024 * 1024))
    output = Output()
    result = await sandbox.exec(
        ["sh", "-c", "cat > /tmp/input.bin; sha256sum < /tmp/input.bin"],
        stdin_path=str(source),
        on_output=output,
        timeout=60,
    )
    assert result.exit_code == 0, output.data
    assert output.data.decode().split()[0] == hashlib.sha256(source.read_bytes()).hexdigest()


async def test_alias_from_ssh_config(sshd: SshServer, tmp_path: Path) -> None:
    config = tmp_path / "ssh_config"
    config.write_text(
        f"Host yard-alias\n  HostName 127.0.0.1\n  Port {sshd.port}\n  User {sshd.user}\n"
        f"  IdentityFile {sshd.user_key}\n"
    )
    target = parse_ssh_target("yard-alias", known_hosts=sshd.known_hosts, config_files=(config,))
    async with tunnel_to(target) as tunnel:
        assert tunnel.state == "connected"


async def test_unknown_host_key_is_refused_with_its_fingerprint(
    sshd: SshServer, tmp_path: Path
) -> None:
    empty = tmp_path / "empty_known_hosts"
    empty.write_text("")
    tunnel = tunnel_to(target_of(sshd, known_hosts=empty))
    with pytest.raises(HostKeyError) as caught:
        await tunnel.start()
    message = str(caught.value)
    assert fingerprint_of(sshd.host_key.with_suffix(".pub")) in message
    assert f"ssh-keyscan -p {sshd.port} 127.0.0.1 >> {empty}" in message
    assert not caught.value.changed
    assert (tunnel.state, tunnel.error) == ("down", caught.value)
    await tunnel.close()


async def test_missing_known_hosts_file_refuses_too(sshd: SshServer, tmp_path: Path) -> None:
    tunnel = tunnel_to(target_of(sshd, known_hosts=tmp_path / "absent"))
    with pytest.raises(HostKeyError, match="is not in"):
        await tunnel.start()
    await tunnel.close()


async def test_changed_host_key_is_refused(sshd: SshServer, tmp_path: Path) -> None:
    stale = tmp_path / "stale_known_hosts"
    shutil.copyfile(sshd.known_hosts, stale)
    sshd.restart(new_host_key=True)
    tunnel = tunnel_to(target_of(sshd, known_hosts=stale))
    with pytest.raises(HostKeyError) as caught:
        await tunnel.start()
    message = str(caught.value)
    assert caught.value.changed and "CHANGED" in message
    assert fingerprint_of(sshd.host_key.with_suffix(".pub")) in message
    assert f"ssh-keygen -R '[127.0.0.1]:{sshd.port}' -f {stale}" in message
    await tunnel.close()


async def test_host_key_changed_while_reconnecting_goes_down_at_once(
    sshd: SshServer, tmp_path: Path
) -> None:
    pinned = tmp_path / "pinned_known_hosts"
    shutil.copyfile(sshd.known_hosts, pinned)
    async with tunnel_to(target_of(sshd, known_hosts=pinned)) as tunnel:
        sshd.restart(new_host_key=True)
        await tunnel.wait_for_state("down", timeout=SETTLE)
        assert isinstance(tunnel.error, HostKeyError) and tunnel.error.changed


async def test_refused_key_names_the_host(sshd: SshServer, tmp_path: Path) -> None:
    stranger = generate_key(tmp_path / "stranger")
    tunnel = tunnel_to(target_of(sshd, identity_file=stranger))
    with pytest.raises(SshAuthError, match=f"{sshd.user}@127.0.0.1:{sshd.port}.*authorized_keys"):
        await tunnel.start()
    await tunnel.close()


async def test_unreachable_host_is_one_clear_error(tmp_path: Path) -> None:
    port = free_port()
    tunnel = tunnel_to(parse_ssh_target(f"root@127.0.0.1:{port}", known_hosts=tmp_path / "kh"))
    with pytest.raises(SshUnreachable, match=f"cannot reach 127.0.0.1:{port} over SSH"):
        await tunnel.start()
    assert tunnel.state == "down"
    await tunnel.close()


async def test_connection_killed_mid_stream_the_command_finishes_with_all_its_output(
    sshd: SshServer, tunnel: DockerTunnel, sandbox: DockerSandbox
) -> None:
    states = record_states(tunnel)
    base_url = tunnel.base_url
    output = Output(marker=b"line 3\n")
    shell, flag, script = counting_script(30, 0.1)
    command = [shell, flag, f"{script}; exit 7"]
    interrupted = asyncio.create_task(sandbox.exec(command, on_output=output))
    await output.seen_marker.wait()
    assert sshd.kill_connections() >= 1
    result = await interrupted
    assert (result.exit_code, result.timed_out) == (7, False)
    assert output.data == expected_lines(30)
    assert states[:2] == ["reconnecting", "connected"]
    assert tunnel.base_url == base_url
    after = Output()
    result = await sandbox.exec(counting_script(3, 0), on_output=after)
    assert (result.exit_code, after.data) == (0, expected_lines(3))


async def test_keepalive_notices_a_silent_server(sshd: SshServer) -> None:
    settings = ConnectSettings(connect_timeout=5, keepalive_interval=0.2, keepalive_count_max=2)
    target = target_of(sshd)
    async with DockerTunnel(target, settings=settings, reconnect=QUICK_RECONNECT) as tunnel:
        states = record_states(tunnel)
        assert sshd.freeze_connections() >= 1
        await tunnel.wait_for_state("reconnecting", timeout=SETTLE)
        await tunnel.wait_for_state("connected", timeout=SETTLE)
        assert states[:2] == ["reconnecting", "connected"]


async def test_host_down_for_good(sshd: SshServer, tunnel: DockerTunnel) -> None:
    backend = DockerBackend(base_url=tunnel.base_url)
    await backend.ping()
    sshd.stop()
    await tunnel.wait_for_state("down", timeout=SETTLE)
    assert isinstance(tunnel.error, TunnelDown)
    assert f"lost the SSH connection to {sshd.target}" in str(tunnel.error)
    assert "cannot reach" in str(tunnel.error)
    with pytest.raises(BackendUnavailable):
        await backend.ping()


async def test_twenty_concurrent_streaming_execs_through_one_connection(
    tunnel: DockerTunnel, sandbox: DockerSandbox
) -> None:
    lines, streams = 25, 20
    outputs = [Output(marker=b"line 1\n") for _ in range(streams)]
    runs = [
        asyncio.create_task(sandbox.exec(counting_script(lines, 0.12), on_output=output))
        for output in outputs
    ]
    await asyncio.gather(*(output.seen_marker.wait() for output in outputs))
    assert not any(run.done() for run in runs), "every stream was open at the same time"
    results = await asyncio.gather(*runs)
    assert [result.exit_code for result in results] == [0] * streams
    assert all(output.data == expected_lines(lines) for output in outputs)
    assert tunnel.state == "connected"
