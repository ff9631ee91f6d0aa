"""One call to a running service over a blocking socket, for commands that ask one thing.

It loads no asyncio: `taskyard tasks` asks, prints and exits in little more than Python's own
start-up. A command that follows events uses `ServiceClient` instead.
"""

from __future__ import annotations

import socket
from typing import Any

from engine.paths import Paths
from engine.service import codec
from engine.service.errors import NotRunning, ServiceError
from engine.service.protocol import (
    MAX_MESSAGE_BYTES,
    VERSION,
    ProtocolError,
    decode_line,
    encode_message,
    hello,
    version_mismatch,
)
from engine.service.unix import SocketAddress, socket_path

__all__ = ["NotRunning", "ServiceError", "call_once"]

CALL_ID = 1


def call_once(paths: Paths, method: str, **args: Any) -> Any:
    """Call `method` on the state dir's running service; its result, or the error it raised.
    NotRunning when no service answers."""
    with _connected(paths) as stream:
        _greet(stream)
        message = {"id": CALL_ID, "call": method, "args": codec.encode(args)}
        stream.write(encode_message(message))
        stream.flush()
        reply = _next_message(stream)
        while reply is not None and reply.get("id") != CALL_ID:
            reply = _next_message(stream)
    if reply is None:
        raise ServiceError("the taskyard service closed the connection before it answered")
    if "error" in reply:
        raise codec.decode_error(reply["error"])
    return codec.decode(reply.get("ok"))


def _connected(paths: Paths) -> Any:
    """The socket as a buffered binary file; NotRunning when nothing listens."""
    path = socket_path(paths)
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        with SocketAddress(path) as address:
            sock.connect(address)
    except (FileNotFoundError, ConnectionRefusedError, NotADirectoryError):
        sock.close()
        raise NotRunning(f"no taskyard service answers on {path}") from None
    except PermissionError:
        sock.close()
        raise ServiceError(
            f"not allowed to connect to {path}: it belongs to another user"
        ) from None
    stream = sock.makefile("rwb")
    sock.close()
    return stream


def _greet(stream: Any) -> None:
    try:
        stream.write(encode_message(hello("cli")))
        stream.flush()
        reply = _next_message(stream)
    except ConnectionError as error:
        raise NotRunning(f"the taskyard service went away while greeting: {error}") from None
    if reply is None:
        raise NotRunning("the taskyard service closed the connection while greeting")
    if "refused" in reply:
        raise ServiceError(f"the taskyard service refused this client: {reply['refused']}")
    version = reply.get("welcome", {}).get("version")
    if version != VERSION:
        raise ServiceError(version_mismatch(version, "service"))


def _next_message(stream: Any) -> dict[str, Any] | None:
    line = stream.readline(MAX_MESSAGE_BYTES + 1)
    try:
        if len(line) > MAX_MESSAGE_BYTES:
            raise ProtocolError(f"a message longer than {MAX_MESSAGE_BYTES} bytes")
        return decode_line(line)
    except ProtocolError as error:
        raise ServiceError(f"the taskyard service broke the protocol: {error}") from None
