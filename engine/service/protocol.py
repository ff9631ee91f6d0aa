"""The service protocol: newline-delimited JSON messages over any byte stream.

A connection opens with the client's `hello` and the service's `welcome` (or `refused`), both
carrying VERSION; a client of another version is told so and the connection ends. Then:

- client: `{"id": N, "call": METHOD, "args": {...}}`
- service: `{"id": N, "ok": VALUE}` or `{"id": N, "error": {"kind", "message", "fields"}}`
- service: `{"sub": N, "event": EVENT}` for each event of subscription N (opened by a call
  to `subscribe`), in the form `taskyard run --json` prints.
- service: `{"id": N, "progress": VALUE}` before the answer of a call that reports progress
  (`build_image` sends its build output so).

Values are encoded by `engine.service.codec`. Nothing here knows it is a Unix socket, so a
forwarded SSH socket carries the same bytes.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import asyncio

VERSION = 3
"""Bumped whenever a message or a method changes meaning; both ends must agree."""
MAX_MESSAGE_BYTES = 64 * 1024 * 1024
"""The longest message either end reads (a command's whole log fits)."""


SERVICE_ENVIRONMENT = (
    "OPENAI_API_KEY",
    "OPENAI_BASE_URL",
    "TASKYARD_MODEL",
    "TASKYARD_WIRE_API",
    "GH_TOKEN",
    "GITHUB_TOKEN",
    "GITLAB_TOKEN",
    "DOCKER_HOST",
    "DOCKER_CONFIG",
)
"""The environment variables the service reads; it has those of the client that started it."""


class ProtocolError(Exception):
    """The other end broke the protocol: a bad message, another version, or a refusal."""


def encode_message(message: dict[str, Any]) -> bytes:
    """One message as one line; JSON escapes every newline inside it."""
    return json.dumps(message, separators=(",", ":")).encode() + b"\n"


async def read_message(reader: asyncio.StreamReader) -> dict[str, Any] | None:
    """The next message, or None at the end of the stream."""
    import asyncio

    try:
        line = await reader.readline()
    except (asyncio.LimitOverrunError, ValueError):
        raise ProtocolError(f"a message longer than {MAX_MESSAGE_BYTES} bytes") from None
    return decode_line(line)


def decode_line(line: bytes) -> dict[str, Any] | None:
    """The message on one line as read (newline included), or None for the end of the stream."""
    if not line:
        return None
    if not line.endswith(b"\n"):
        raise ProtocolError("the stream ended inside a message")
    try:
        message = json.loads(line)
    except ValueError:
        raise ProtocolError("a message that is not JSON") from None
    if not isinstance(message, dict):
        raise ProtocolError("a message that is not a JSON object")
    return message


def hello(client: str) -> dict[str, Any]:
    return {"hello": {"version": VERSION, "client": client}}


def version_mismatch(theirs: object, side: str) -> str:
    """The message for a peer of another protocol version."""
    return (
        f"this taskyard speaks service protocol {VERSION} but the {side} speaks {theirs}: "
        "run the same taskyard version on both ends (`taskyard serve stop` ends an old service; "
        "the next command starts one of this version)"
    )


def environment_fingerprint(
    environ: Mapping[str, str], names: Iterable[str] = SERVICE_ENVIRONMENT
) -> dict[str, str]:
    """The named variables' values (SERVICE_ENVIRONMENT's, plus those the service's config
    names in `env:` references), each as a short hash ("" when unset): enough to tell that a
    client's differ from the service's, never the values."""
    return {
        name: hashlib.sha256(environ[name].encode()).hexdigest()[:16] if environ.get(name) else ""
        for name in dict.fromkeys(names)
    }


def differing(ours: Mapping[str, str], theirs: Mapping[str, str]) -> list[str]:
    """The variables whose fingerprints differ between two ends."""
    names = dict.fromkeys([*SERVICE_ENVIRONMENT, *theirs])
    return [name for name in names if ours.get(name, "") != theirs.get(name, "")]
