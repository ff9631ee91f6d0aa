"""Docker API latency through taskyard's DockerTunnel vs docker-py's own ssh:// transport.

Starts a throwaway OpenSSH sshd on 127.0.0.1 (tests/support/sshd.py) in front of this machine's
Docker engine and times, per transport, N x `GET /_ping`, N x a filtered container list and M
short execs (exec_create + exec_start of `true`) in one running container:

- floor: docker-py on the local socket (/var/run/docker.sock), no SSH at all;
- tunnel: docker-py on DockerTunnel.base_url (one asyncssh connection, a channel per socket);
- docker-py ssh:// (paramiko): its default backend, `docker system dial-stdio` on a session
  channel per pooled connection;
- docker-py ssh:// (ssh binary): `use_ssh_client=True`, one `ssh ... docker system dial-stdio`
  process per pooled connection.

docker-py needs paramiko importable for ssh:// at all: `.venv/bin/pip install -e '.[bench]'`.
Both ssh:// clients find the server's key and known_hosts through a temporary HOME (paramiko) and
an `ssh` wrapper first on PATH (the binary reads the same file with -F). Prints p50/p95 per call
and the ratios. Traffic goes only to loopback.

    .venv/bin/python benchmarks/docker_over_ssh.py [--calls 200] [--execs 20]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib.util
import os
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Coroutine, Iterator
from pathlib import Path
from typing import Any, TypeVar

import docker

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sandboxes.base import MANAGED_LABEL
from sandboxes.ssh import DockerTunnel, parse_ssh_target
from tests.support.sshd import SshServer

T = TypeVar("T")
IMAGE = "debian:bookworm-slim"
BENCH_LABEL = "dev.taskyard.benchmark"
WARMUP_CALLS = 5
TUNNEL = "taskyard tunnel"
SSH_WRAPPER = '#!/bin/sh\nexec /usr/bin/ssh -F {config} "$@"\n'
SSH_CLIENT_CONFIG = """\
Host 127.0.0.1
  IdentityFile {identity}
  UserKnownHostsFile {known_hosts}
  StrictHostKeyChecking yes
  BatchMode yes
"""


class LoopThread:
    """An asyncio loop on a background thread, so blocking docker-py calls run on this one."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self._thread.start()

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result()

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join()


def timed(call: Callable[[], object], count: int) -> list[float]:
    """Seconds per call, after a few untimed warm-up calls."""
    for _ in range(WARMUP_CALLS):
        call()
    durations = []
    for _ in range(count):
        started = time.perf_counter()
        call()
        durations.append(time.perf_counter() - started)
    return durations


def short_exec(client: docker.DockerClient, container_id: str) -> None:
    """Create and run `true`; docker-py's ssh-binary socket raises BrokenPipeError on closing
    after the exec has finished, which is ignored."""
    exec_id = client.api.exec_create(container_id, ["true"])["Id"]
    with contextlib.suppress(BrokenPipeError):
        client.api.exec_start(exec_id)


def measure(
    client: docker.DockerClient, container_id: str, calls: int, execs: int
) -> dict[str, list[float]]:
    """The three timed operations on one client."""
    filters = {"label": f"{BENCH_LABEL}=1"}
    return {
        "ping": timed(client.api.ping, calls),
        "list": timed(lambda: client.api.containers(all=True, filters=filters), calls),
        "exec": timed(lambda: short_exec(client, container_id), execs),
    }


def percentile(durations: list[float], fraction: float) -> float:
    ordered = sorted(durations)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


@contextlib.contextmanager
def ssh_client_files(server: SshServer, root: Path) -> Iterator[None]:
    """HOME/.ssh/{config,known_hosts} for paramiko, and an `ssh` on PATH reading that config."""
    ssh_dir = root / "home" / ".ssh"
    ssh_dir.mkdir(parents=True)
    known_hosts = ssh_dir / "known_hosts"
    known_hosts.write_text(server.known_hosts.read_text())
    config = ssh_dir / "config"
    config.write_text(SSH_CLIENT_CONFIG.format(identity=server.user_key, known_hosts=known_hosts))
    wrapper = root / "bin" / "ssh"
    wrapper.parent.mkdir()
    wrapper.write_text(SSH_WRAPPER.format(config=config))
    wrapper.chmod(0o755)
    previous = dict(os.environ)
    os.environ["HOME"] = str(ssh_dir.parent)
    os.environ["PATH"] = f"{wrapper.parent}{os.pathsep}{os.environ['PATH']}"
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(previous)


def docker_py_ssh_client(server: SshServer, use_ssh_client: bool) -> docker.DockerClient:
    """docker-py's own ssh:// client on paramiko or on the ssh binary."""
    return docker.DockerClient(base_url=f"ssh://{server.target}", use_ssh_client=use_ssh_client)


def report(name: str, results: dict[str, list[float]]) -> None:
    cells = [
        f"{op} p50 {statistics.median(d) * 1000:6.2f} p95 {percentile(d, 0.95) * 1000:6.2f}"
        for op, d in results.items()
    ]
    print(f"{name:<26} " + "  |  ".join(cells) + "  (ms)")


def ratios(name: str, results: dict[str, list[float]], base: dict[str, list[float]]) -> None:
    cells = [
        f"{op} p50 {statistics.median(d) / statistics.median(base[op]):5.3g}x "
        f"p95 {percentile(d, 0.95) / percentile(base[op], 0.95):5.3g}x"
        for op, d in results.items()
    ]
    print(f"{name:<36} " + "  |  ".join(cells))


def run(calls: int, execs: int, root: Path) -> dict[str, dict[str, list[float]]]:
    """Every transport's timings, against one benchmark container."""
    local = docker.from_env()
    container = local.containers.run(
        IMAGE, ["sleep", "infinity"], detach=True, labels={MANAGED_LABEL: "true", BENCH_LABEL: "1"}
    )
    try:
        with SshServer.started(root / "sshd") as server, ssh_client_files(server, root):
            results = {"floor (local)": measure(local, container.id, calls, execs)}
            for name, use_ssh_client in (("paramiko", False), ("ssh bin", True)):
                client = docker_py_ssh_client(server, use_ssh_client)
                results[f"docker-py ssh:// {name}"] = measure(client, container.id, calls, execs)
                client.close()
            results[TUNNEL] = measure_tunnel(server, container.id, calls, execs)
    finally:
        container.remove(force=True)
        local.close()
    return results


def measure_tunnel(
    server: SshServer, container_id: str, calls: int, execs: int
) -> dict[str, list[float]]:
    """Timings of docker-py on a DockerTunnel whose loop runs on a background thread."""
    target = parse_ssh_target(
        server.target, identity_file=server.user_key, known_hosts=server.known_hosts
    )
    tunnel = DockerTunnel(target)
    loop = LoopThread()
    try:
        loop.run(tunnel.start())
        client = docker.DockerClient(base_url=tunnel.base_url)
        results = measure(client, container_id, calls, execs)
        client.close()
    finally:
        loop.run(tunnel.close())
        loop.stop()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--execs", type=int, default=20)
    args = parser.parse_args()
    if importlib.util.find_spec("paramiko") is None:
        sys.exit("docker-py's ssh:// needs paramiko: .venv/bin/pip install -e '.[bench]'")
    with tempfile.TemporaryDirectory() as tmp:
        results = run(args.calls, args.execs, Path(tmp))
    print(f"calls: {args.calls} ping, {args.calls} list, {args.execs} exec (create+start `true`)")
    for name, measured in results.items():
        report(name, measured)
    for name in ("docker-py ssh:// paramiko", "docker-py ssh:// ssh bin", "floor (local)"):
        ratios(f"tunnel / {name}", results[TUNNEL], results[name])


if __name__ == "__main__":
    main()
