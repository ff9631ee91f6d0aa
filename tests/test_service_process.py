"""The service as a real background process: autostart, one per state dir, idle exit, stop,
a stale socket after kill -9, and peers refused by uid or version."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from engine.errors import EngineError
from engine.paths import Paths
from engine.service.client import NotRunning, ServiceClient
from engine.service.protocol import VERSION, encode_message, read_message
from engine.service.unix import lock_path, locking_pid, socket_path
from tests.support.service import process_alive

NOBODY = 65534


def home_paths(tmp_path: Path, config: str = "") -> Paths:
    paths = Paths(config_dir=tmp_path / "config", state_dir=tmp_path / "state")
    paths.config_dir.mkdir(parents=True)
    paths.config_file.write_text(config)
    return paths


def wait_gone(pid: int, timeout: float = 20.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not process_alive(pid):
            return True
        time.sleep(0.05)
    return False


async def test_a_client_starts_the_service_and_stop_ends_it(tmp_path: Path) -> None:
    paths = home_paths(tmp_path)
    with pytest.raises(NotRunning):
        await ServiceClient.open(paths)
    client = await ServiceClient.connect(paths)
    status = await client.status()
    assert status.pid != os.getpid()
    assert status.version == VERSION
    assert status.clients == 1
    assert status.socket == str(socket_path(paths))
    assert stat.S_IMODE(socket_path(paths).stat().st_mode) == 0o600
    assert stat.S_IMODE(paths.service_dir.stat().st_mode) == 0o700
    await client.stop()
    await client.close()
    assert wait_gone(status.pid)
    assert not socket_path(paths).exists()
    assert "listening on" in (paths.service_dir / "service.log").read_text()


async def test_clients_starting_at_once_share_one_service(tmp_path: Path) -> None:
    paths = home_paths(tmp_path)
    clients = await asyncio.gather(*(ServiceClient.connect(paths) for _ in range(4)))
    pids = {(await client.status()).pid for client in clients}
    assert len(pids) == 1
    assert locking_pid(lock_path(paths)) in pids
    await clients[0].stop()
    for client in clients:
        await client.close()
    assert wait_gone(pids.pop())


async def test_the_service_exits_when_idle(tmp_path: Path) -> None:
    paths = home_paths(tmp_path, "[service]\nidle_minutes = 0.01\n")
    client = await ServiceClient.connect(paths)
    pid = (await client.status()).pid
    await asyncio.sleep(1.5)
    assert locking_pid(lock_path(paths)) == pid, "a connected client keeps it up"
    await client.close()
    assert wait_gone(pid, timeout=15)


async def test_a_stale_socket_of_a_killed_service_is_replaced(tmp_path: Path) -> None:
    paths = home_paths(tmp_path)
    client = await ServiceClient.connect(paths)
    first = (await client.status()).pid
    os.kill(first, signal.SIGKILL)
    assert wait_gone(first)
    await client.close()
    assert socket_path(paths).exists(), "kill -9 leaves the socket file behind"
    client = await ServiceClient.connect(paths)
    second = (await client.status()).pid
    assert second != first
    await client.stop()
    await client.close()
    assert wait_gone(second)


async def test_a_client_of_another_version_gets_a_clear_refusal(tmp_path: Path) -> None:
    paths = home_paths(tmp_path)
    client = await ServiceClient.connect(paths)
    reader, writer = await asyncio.open_unix_connection(str(socket_path(paths)))
    writer.write(encode_message({"hello": {"version": 0, "client": "old"}}))
    reply = await read_message(reader)
    writer.close()
    await client.stop()
    await client.close()
    assert reply is not None
    assert reply["refused"].startswith(f"this taskyard speaks service protocol {VERSION}")
    assert "`taskyard serve stop`" in reply["refused"]


REFUSED_PEER = """
import asyncio, os, sys
from pathlib import Path
from engine.errors import EngineError
from engine.paths import Paths
from engine.service.client import ServiceClient, ServiceError
os.setgid({uid}); os.setuid({uid})
paths = Paths(config_dir=Path(sys.argv[1]), state_dir=Path(sys.argv[2]))
try:
    asyncio.run(ServiceClient.open(paths))
except ServiceError as error:
    print(error)
"""


async def test_a_client_of_another_uid_is_refused(tmp_path: Path) -> None:
    if os.getuid() != 0:
        if os.environ.get("CI") == "true":
            pytest.fail("CI=true: this test needs root to connect as another uid")
        pytest.skip("needs root to connect as another uid")
    shared = Path(tempfile.mkdtemp(prefix="taskyard-uid-", dir="/tmp"))
    paths = home_paths(shared)
    client = await ServiceClient.connect(paths)
    for opened in (shared, paths.state_dir, paths.service_dir):
        opened.chmod(0o755)
    socket_path(paths).chmod(0o666)
    peer = subprocess.run(
        [
            sys.executable,
            "-c",
            REFUSED_PEER.format(uid=NOBODY),
            str(paths.config_dir),
            str(paths.state_dir),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=Path(__file__).parent.parent,
        check=False,
    )
    status = await client.status()
    await client.stop()
    await client.close()
    assert "refused this client: the service accepts only uid 0" in peer.stdout, peer.stderr
    assert status.clients == 1
    log = (paths.service_dir / "service.log").read_text()
    shutil.rmtree(shared)
    assert f"refused a client of uid {NOBODY}" in log


async def test_a_second_foreground_service_says_one_runs(tmp_path: Path) -> None:
    paths = home_paths(tmp_path)
    client = await ServiceClient.connect(paths)
    await client.close()
    second = await asyncio.to_thread(
        subprocess.run,
        [
            sys.executable,
            "-m",
            "engine.service",
            "--config-dir",
            str(paths.config_dir),
            "--state-dir",
            str(paths.state_dir),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert second.returncode == 3
    assert "already running for this state dir" in second.stderr
    pid = locking_pid(lock_path(paths))
    assert pid is not None
    os.kill(pid, signal.SIGTERM)
    assert wait_gone(pid)


def test_a_service_that_cannot_start_says_why(tmp_path: Path) -> None:
    paths = home_paths(tmp_path, "[service]\nidle_minutes = -1\n")
    with pytest.raises(EngineError) as raised:
        asyncio.run(ServiceClient.connect(paths))
    assert "\n" not in str(raised.value)
    assert "service.idle_minutes" in str(raised.value)


async def test_a_service_started_in_a_repository_runs_none_of_its_modules(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = tmp_path / "repo"
    planted = repo / "engine" / "service"
    planted.mkdir(parents=True)
    ran = tmp_path / "ran"
    code = f"open({str(ran)!r}, 'w').write('ran')\n"
    for package in (repo / "engine", planted):
        (package / "__init__.py").write_text(code)
    (planted / "__main__.py").write_text(code)
    monkeypatch.chdir(repo)
    paths = home_paths(tmp_path)
    client = await ServiceClient.connect(paths)
    status = await client.status()
    await client.stop()
    await client.close()
    assert wait_gone(status.pid)
    assert not ran.exists()
