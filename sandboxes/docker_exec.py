"""Running one command in a container: its process group, its output stream, its exit."""

from __future__ import annotations

import asyncio
import socket
import struct
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

from docker.api.client import APIClient

from sandboxes.base import OutputCallback, SandboxError

PID_DIR = "/tmp/.taskyard-pids"
FRAME_HEADER_BYTES = 8

GROUP_SCRIPT = (
    'pidfile="$1"; shift; mkdir -p -m 1777 "${pidfile%/*}" 2>/dev/null; echo $$ > "$pidfile"; '
    '"$@" 2>&1; status=$?; rm -f "$pidfile"; exit $status'
)
"""Records the process group id (docker exec starts the command as a session leader), then runs
argv with stderr on stdout's pipe so their order survives."""

KILL_SCRIPT = (
    'pidfile="$1"; tries=0; '
    'while [ ! -s "$pidfile" ] && [ $tries -lt 20 ]; do sleep 0.1; tries=$((tries + 1)); done; '
    '[ -s "$pidfile" ] || exit 0; group="-$(cat "$pidfile")"; kill -s KILL -- "$group"; '
    'tries=0; while kill -s 0 -- "$group" 2>/dev/null && [ $tries -lt 40 ]; do '
    "sleep 0.05; tries=$((tries + 1)); done; "
    'rm -f "$pidfile"'
)
"""Kills the process group recorded by GROUP_SCRIPT and waits (bounded) until it is gone."""


class ThreadedStream:
    """Runs a blocking chunk iterator on its own thread and delivers chunks on the event loop."""

    def __init__(self, chunks: Iterator[bytes], name: str) -> None:
        self._chunks = chunks
        self._loop = asyncio.get_running_loop()
        self._queue: asyncio.Queue[bytes | Exception | None] = asyncio.Queue()
        self._thread = threading.Thread(target=self._produce, name=name, daemon=True)
        self._thread.start()

    def _produce(self) -> None:
        try:
            for chunk in self._chunks:
                self._post(chunk)
        except Exception as error:
            self._post(error)
        else:
            self._post(None)

    def _post(self, item: bytes | Exception | None) -> None:
        try:
            self._loop.call_soon_threadsafe(self._queue.put_nowait, item)
        except RuntimeError:
            return

    async def deliver(self, on_output: OutputCallback | None, timeout: float | None) -> bool:
        """Pass chunks to on_output until the stream ends (True) or timeout passes (False)."""
        try:
            async with asyncio.timeout(timeout) as scope:
                await self._deliver_all(on_output)
        except TimeoutError:
            if scope.expired():
                return False
            raise
        return True

    async def _deliver_all(self, on_output: OutputCallback | None) -> None:
        while (item := await self._queue.get()) is not None:
            if isinstance(item, Exception):
                raise item
            if on_output is not None:
                on_output(item)


def start_exec_stream(api: APIClient, exec_id: str) -> Any:
    """Start an exec and return its output stream: the response's buffered reader.

    docker-py's `exec_start(socket=True)` hands back the raw socket under that reader, which
    loses any output that arrived together with the response headers (common through an SSH
    relay, where both come in one read). Reading from the buffered reader keeps every byte.
    """
    client: Any = api
    response = client._post_json(
        client._url("/exec/{0}/start", exec_id),
        headers={"Connection": "Upgrade", "Upgrade": "tcp"},
        data={"Tty": False, "Detach": False},
        stream=True,
    )
    client._raise_for_status(response)
    reader = response.raw._fp.fp
    reader.response = response
    return reader


def read_exactly(reader: Any, size: int) -> bytes:
    """`size` bytes, or fewer if the stream ends first."""
    parts, missing = [], size
    while missing:
        part = reader.read(missing)
        if not part:
            break
        parts.append(part)
        missing -= len(part)
    return b"".join(parts)


def exec_frames(reader: Any) -> Iterator[bytes]:
    """The payloads of Docker's multiplexed stream (8-byte header: kind, 3 zeros, length)."""
    while len(header := read_exactly(reader, FRAME_HEADER_BYTES)) == FRAME_HEADER_BYTES:
        _kind, length = struct.unpack(">BxxxL", header)
        if length:
            yield read_exactly(reader, length)


class ExecOutput:
    """The merged stdout+stderr of one exec, read from its hijacked connection."""

    def __init__(self, open_stream: Callable[[], Any]) -> None:
        self._open_stream = open_stream
        self._stream: Any = None
        self._aborted = False

    def chunks(self) -> Iterator[bytes]:
        """Start the exec and yield its output chunks in arrival order."""
        self._stream = self._open_stream()
        try:
            if not self._aborted:
                yield from self._frames()
        finally:
            self._stream.close()

    def _frames(self) -> Iterator[bytes]:
        try:
            yield from exec_frames(self._stream)
        except (OSError, ValueError) as error:
            if not self._aborted:
                raise SandboxError(f"lost the output of a command: {error}") from error

    def abort(self) -> None:
        """Stop reading: shut the connection down so the reading thread ends."""
        self._aborted = True
        raw = getattr(getattr(self._stream, "raw", None), "_sock", None)
        if raw is None:
            return
        try:
            raw.shutdown(socket.SHUT_RDWR)
        except OSError:
            return


def finished_exit_code(api: APIClient, exec_id: str) -> int:
    """The exit code of an exec whose output has ended."""
    for _attempt in range(100):
        details = api.exec_inspect(exec_id)
        if not details["Running"] and details["ExitCode"] is not None:
            return int(details["ExitCode"])
        time.sleep(0.01)
    raise SandboxError(f"command {exec_id[:12]} closed its output but never reported an exit code")


def kill_exec_group(api: APIClient, container_id: str, exec_id: str, pidfile: str) -> None:
    """SIGKILL the process group of a running exec from a second exec."""
    if not api.exec_inspect(exec_id)["Running"]:
        return
    killer = api.exec_create(container_id, ["sh", "-c", KILL_SCRIPT, "sh", pidfile], user="0")
    api.exec_start(killer["Id"])
