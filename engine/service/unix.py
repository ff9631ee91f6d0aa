"""The service's Unix socket: where it lives, who may connect, and paths too long to bind."""

from __future__ import annotations

import fcntl
import os
import socket
import struct
from pathlib import Path

from engine.paths import Paths

SOCKET_NAME = "service.sock"
MAX_SOCKET_PATH = 100
"""sun_path holds 108 bytes; a longer path is reached through /proc/self/fd."""


def socket_path(paths: Paths) -> Path:
    return paths.service_dir / SOCKET_NAME


def lock_path(paths: Paths) -> Path:
    return paths.service_dir / "service.lock"


def log_path(paths: Paths) -> Path:
    return paths.service_dir / "service.log"


def private_dir(paths: Paths) -> Path:
    """The service directory, created if needed, mode 0700 whatever it was."""
    directory = paths.service_dir
    directory.mkdir(parents=True, exist_ok=True)
    directory.chmod(0o700)
    return directory


class SocketAddress:
    """A socket path short enough for sun_path: itself, or its directory opened as an fd."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._dir_fd: int | None = None

    def __enter__(self) -> str:
        if len(os.fsencode(self.path)) <= MAX_SOCKET_PATH:
            return str(self.path)
        self._dir_fd = os.open(self.path.parent, os.O_RDONLY | os.O_DIRECTORY)
        return f"/proc/self/fd/{self._dir_fd}/{self.path.name}"

    def __exit__(self, *_: object) -> None:
        if self._dir_fd is not None:
            os.close(self._dir_fd)
            self._dir_fd = None


def peer_uid(sock: socket.socket) -> int:
    """The uid of the process at the other end of a connected Unix socket (SO_PEERCRED)."""
    credentials = sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    _pid, uid, _gid = struct.unpack("3i", credentials)
    return int(uid)


def locking_pid(lock: Path) -> int | None:
    """The pid of the service holding `lock` (it writes its pid there), or None when no process
    holds it: its exit releases the lock however it ends."""
    if not lock.exists():
        return None
    with open(lock, "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            return int(handle.read().strip() or 0) or None
        fcntl.flock(handle, fcntl.LOCK_UN)
    return None
