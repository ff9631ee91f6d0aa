"""A local unix socket whose every accepted stream is relayed over a fresh SSH channel."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Protocol

import asyncssh

from sandboxes.ssh.errors import SshError

RELAY_CHUNK = 256 * 1024
SOCKET_MODE = 0o600


class ByteReader(Protocol):
    """The read side of a local or SSH stream."""

    async def read(self, n: int = -1, /) -> bytes:
        """Up to n bytes; b"" at end of stream."""
        ...


class ByteWriter(Protocol):
    """The write side of a local or SSH stream."""

    def write(self, data: bytes, /) -> None:
        """Queue data for sending."""

    async def drain(self) -> None:
        """Wait until the queue has room again."""

    def can_write_eof(self) -> bool:
        """Whether write_eof() half-closes this stream."""
        ...

    def write_eof(self) -> None:
        """Send end of stream, keeping the read side open."""

    def close(self) -> None:
        """Close both directions."""


ChannelOpener = Callable[[], Awaitable[tuple[ByteReader, ByteWriter]]]
"""Opens one new channel to the remote socket, or raises SshError."""


class UnixRelay:
    """Listens on a local unix socket (mode 0600) and pairs each client with a new channel.

    The socket outlives the SSH connection: clients that arrive while it is being re-established
    wait in `open_channel`, so the socket's path never changes.
    """

    def __init__(self, path: Path, open_channel: ChannelOpener) -> None:
        self.path = path
        self._open_channel = open_channel
        self._server: asyncio.Server | None = None
        self._relays: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        """Start listening (once; later calls do nothing)."""
        if self._server is None:
            self._server = await asyncio.start_unix_server(self._serve, path=str(self.path))
            self.path.chmod(SOCKET_MODE)

    async def close(self) -> None:
        """Stop listening and end every relayed stream."""
        if self._server is not None:
            self._server.close()
        for relay in list(self._relays):
            relay.cancel()
        await asyncio.gather(*self._relays, return_exceptions=True)
        if self._server is not None:
            await self._server.wait_closed()
            self._server = None

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        relay = asyncio.create_task(self._relay_client(reader, writer))
        self._relays.add(relay)
        relay.add_done_callback(self._relays.discard)
        try:
            await asyncio.wait([relay])
        except asyncio.CancelledError:
            # Ends quietly: asyncio's server callback logs a cancelled handler as an error.
            relay.cancel()

    async def _relay_client(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        try:
            remote_reader, remote_writer = await self._open_channel()
        except SshError:
            writer.close()
            return
        try:
            await relay_both_ways(reader, writer, remote_reader, remote_writer)
        finally:
            remote_writer.close()
            writer.close()


async def relay_both_ways(
    local_reader: ByteReader,
    local_writer: ByteWriter,
    remote_reader: ByteReader,
    remote_writer: ByteWriter,
) -> None:
    """Copy both ways until the remote side ends; a client's EOF is passed on as a half-close."""
    upstream = asyncio.create_task(copy_quietly(local_reader, remote_writer))
    try:
        await copy_quietly(remote_reader, local_writer)
    finally:
        upstream.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await upstream


async def copy_quietly(source: ByteReader, sink: ByteWriter) -> None:
    """Copy source to sink then pass on EOF; a broken stream on either side just ends the copy."""
    with contextlib.suppress(OSError, asyncssh.Error):
        while chunk := await source.read(RELAY_CHUNK):
            sink.write(chunk)
            await sink.drain()
        if sink.can_write_eof():
            sink.write_eof()
