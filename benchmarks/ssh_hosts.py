"""A Docker host over SSH vs this machine: task start latency and Docker API call latency.

In one run, against a throwaway OpenSSH sshd on 127.0.0.1 in front of this machine's Docker
engine (tests/support/sshd.py):

1. submit -> first agent command (the scripted model, a small repository), median of N runs
   each on `local` and on an SSH host `remote`: goal, SSH at most 1.3x local;
2. Docker API latency p50/p95 (ping, container list, short exec) through taskyard's tunnel vs
   docker-py's own ssh:// transports and the local socket (benchmarks/docker_over_ssh.py).

docker-py's ssh:// needs paramiko: `.venv/bin/pip install -e '.[bench]'`. Loopback only.

    .venv/bin/python benchmarks/ssh_hosts.py [--runs 5] [--calls 200] [--execs 20]
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import docker_over_ssh
from first_command import first_command

from tests.support.repos import make_calc_repo
from tests.support.sshd import SshServer


def remote_host(server: SshServer) -> dict[str, object]:
    return {
        "ssh": server.target,
        "identity_file": str(server.user_key),
        "known_hosts": str(server.known_hosts),
    }


def start_latency(root: Path, runs: int) -> tuple[list[float], list[float]]:
    """Seconds to the first agent command, alternating local and SSH runs after a warm-up."""
    repo = make_calc_repo(root / "repo")
    local, remote = [], []
    with SshServer.started(root / "sshd") as server:
        hosts = {"remote": remote_host(server)}
        for host in ("local", "remote"):
            asyncio.run(first_command(root / "home", repo, host, hosts))
        for _ in range(runs):
            local.append(asyncio.run(first_command(root / "home", repo, "local", hosts)))
            remote.append(asyncio.run(first_command(root / "home", repo, "remote", hosts)))
    return local, remote


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--execs", type=int, default=20)
    args = parser.parse_args()
    if importlib.util.find_spec("paramiko") is None:
        sys.exit("docker-py's ssh:// needs paramiko: .venv/bin/pip install -e '.[bench]'")
    with tempfile.TemporaryDirectory() as tmp:
        local, remote = start_latency(Path(tmp), args.runs)
        api = docker_over_ssh.run(args.calls, args.execs, Path(tmp) / "api")
    local_ms, remote_ms = statistics.median(local) * 1000, statistics.median(remote) * 1000
    print(f"submit -> first agent command, median of {args.runs}:")
    print(f"  local                       {local_ms:7.0f} ms")
    print(f"  SSH host (loopback sshd)    {remote_ms:7.0f} ms")
    verdict = "ok" if remote_ms <= 1.3 * local_ms else "MISSED"
    print(f"  ratio SSH / local           {remote_ms / local_ms:7.2f}x  (goal <= 1.30x) {verdict}")
    print(f"Docker API: {args.calls} ping, {args.calls} list, {args.execs} exec; p50 / p95 ms")
    for name, measured in api.items():
        docker_over_ssh.report(name, measured)
    for name in ("docker-py ssh:// paramiko", "docker-py ssh:// ssh bin", "floor (local)"):
        docker_over_ssh.ratios(f"tunnel / {name}", api[docker_over_ssh.TUNNEL], api[name])


if __name__ == "__main__":
    main()
