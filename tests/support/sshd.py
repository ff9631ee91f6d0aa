"""A real OpenSSH sshd on loopback with throwaway host and user keys, for tests and benchmarks.

with SshServer.started(tmp_path) as server:
    server.target      # "root@127.0.0.1:PORT"
    server.known_hosts # a known_hosts file that trusts the current host key
    server.kill_connections()         # drop every live SSH connection, keep listening
    server.restart(new_host_key=True) # same port, a different host key
"""

from __future__ import annotations

import contextlib
import getpass
import os
import shutil
import signal
import socket
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

SSHD = "/usr/sbin/sshd"
PRIVSEP_DIR = Path("/run/sshd")
START_TIMEOUT = 15.0
LISTENING_MARK = "Server listening on"

SSHD_CONFIG = """\
ListenAddress 127.0.0.1
Port {port}
HostKey {host_key}
AuthorizedKeysFile {authorized_keys}
PidFile {pid_file}
UsePAM no
StrictModes no
PermitRootLogin prohibit-password
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
AllowStreamLocalForwarding yes
LogLevel INFO
"""


def sshd_problem() -> str | None:
    """Why a test sshd cannot run here, or None when it can."""
    if not Path(SSHD).is_file():
        return f"{SSHD} is not installed (apt-get install openssh-server)"
    if shutil.which("ssh-keygen") is None:
        return "ssh-keygen is not installed (apt-get install openssh-client)"
    return None


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def generate_key(path: Path) -> Path:
    """Write a fresh ed25519 key pair at path (and path.pub); return path."""
    path.unlink(missing_ok=True)
    Path(f"{path}.pub").unlink(missing_ok=True)
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "taskyard-test", "-f", str(path)],
        check=True,
    )
    return path


def child_pids(parent: int) -> list[int]:
    """The ids of parent's direct children, read from /proc."""
    children = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError):
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[1]) == parent:
                children.append(int(stat.parent.name))
    return children


class SshServer:
    """One sshd process on 127.0.0.1:port with its own keys, config and known_hosts file."""

    def __init__(self, root: Path, port: int | None = None) -> None:
        self.root = root
        self.port = port or free_port()
        self.user = getpass.getuser()
        self.host_key = root / "host_ed25519"
        self.user_key = root / "user_ed25519"
        self.known_hosts = root / "known_hosts"
        self.config = root / "sshd_config"
        self.log = root / "sshd.log"
        self._process: subprocess.Popen[str] | None = None
        self._log_thread: threading.Thread | None = None

    @classmethod
    @contextlib.contextmanager
    def started(cls, root: Path, port: int | None = None) -> Iterator[SshServer]:
        """Start a server with fresh keys under root; stop it on exit."""
        root.mkdir(parents=True, exist_ok=True)
        server = cls(root, port)
        server.start()
        try:
            yield server
        finally:
            server.stop()

    @property
    def target(self) -> str:
        """The `user@host:port` string that reaches this server."""
        return f"{self.user}@127.0.0.1:{self.port}"

    @property
    def host_pattern(self) -> str:
        """The server's name as known_hosts and ssh-keygen -R spell it."""
        return f"[127.0.0.1]:{self.port}"

    def start(self) -> None:
        """Create missing keys, write the config and known_hosts, start sshd, await listening."""
        if not self.host_key.exists():
            generate_key(self.host_key)
        if not self.user_key.exists():
            generate_key(self.user_key)
        self._write_files()
        PRIVSEP_DIR.mkdir(mode=0o755, exist_ok=True)
        self._process = subprocess.Popen(
            [SSHD, "-D", "-e", "-f", str(self.config)],
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            text=True,
        )
        self._await_listening(self._process)

    def _write_files(self) -> None:
        shutil.copyfile(f"{self.user_key}.pub", self.root / "authorized_keys")
        self.config.write_text(
            SSHD_CONFIG.format(
                port=self.port,
                host_key=self.host_key,
                authorized_keys=self.root / "authorized_keys",
                pid_file=self.root / "sshd.pid",
            )
        )
        self.known_hosts.write_text(f"{self.host_pattern} {self.host_public_key()}\n")

    def host_public_key(self) -> str:
        """The current host key as `type base64` (no comment)."""
        kind, blob, *_ = Path(f"{self.host_key}.pub").read_text().split()
        return f"{kind} {blob}"

    def _await_listening(self, process: subprocess.Popen[str]) -> None:
        listening = threading.Event()
        self._log_thread = threading.Thread(
            target=self._copy_log, args=(process, listening), daemon=True
        )
        self._log_thread.start()
        if not listening.wait(START_TIMEOUT) or process.poll() is not None:
            self.stop()
            raise RuntimeError(f"sshd did not start on port {self.port}: {self.log.read_text()}")

    def _copy_log(self, process: subprocess.Popen[str], listening: threading.Event) -> None:
        assert process.stderr is not None
        with self.log.open("a") as log:
            for line in process.stderr:
                log.write(line)
                log.flush()
                if LISTENING_MARK in line:
                    listening.set()
        listening.set()

    def kill_connections(self) -> int:
        """SIGKILL every per-connection sshd child, dropping live connections; return how many."""
        return self._signal_connections(signal.SIGKILL)

    def freeze_connections(self) -> int:
        """SIGSTOP every per-connection sshd child: connections stay open but stop answering."""
        return self._signal_connections(signal.SIGSTOP)

    def _signal_connections(self, signum: signal.Signals) -> int:
        assert self._process is not None, "server is not running"
        children = child_pids(self._process.pid)
        for pid in children:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signum)
        return len(children)

    def stop(self) -> None:
        """Stop listening and drop every connection."""
        if self._process is None:
            return
        self.kill_connections()
        self._process.kill()
        self._process.wait()
        if self._log_thread is not None:
            self._log_thread.join(timeout=5)
        self._process = None

    def restart(self, *, new_host_key: bool = False) -> None:
        """Stop and start again on the same port, optionally with a freshly generated host key.

        The known_hosts file always describes the key the server now offers; tests that want a
        stale one keep a copy from before.
        """
        self.stop()
        if new_host_key:
            generate_key(self.host_key)
        self.start()
