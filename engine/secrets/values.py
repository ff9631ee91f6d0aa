"""Secret values and every form they may take in output: found, redacted, and scanned for.

A secret is redacted as `***NAME***` in its raw form and in the forms tools turn it into:
base64 (standard and URL-safe, at each of the three byte alignments it can fall on inside a
longer encoded text), URL encoding and JSON string escaping.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import re
import urllib.parse
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

T = TypeVar("T")

MIN_SECRET_LENGTH = 4
"""Shorter values would redact ordinary text everywhere; the config refuses them."""
MIN_DERIVED_LENGTH = 8
"""Encoded fragments shorter than this are not looked for: they would match by chance."""


@dataclass(frozen=True)
class Secret:
    """A named secret value, resolved on the host for one task."""

    name: str
    value: str

    def __repr__(self) -> str:
        return f"Secret(name={self.name!r}, value='***')"


def _base64_fragments(raw: bytes) -> Iterator[bytes]:
    """The part of base64 that depends on `raw` alone, at each alignment it may start on."""
    for offset in range(3):
        for encode in (base64.b64encode, base64.urlsafe_b64encode):
            encoded = encode(b"\0" * offset + raw)
            start = -(-offset * 8 // 6)
            end = (offset + len(raw)) * 8 // 6
            yield encoded[start:end]


def secret_forms(value: str) -> list[bytes]:
    """Every form of `value` to redact, longest first."""
    raw = value.encode("utf-8", "surrogateescape")
    derived = {
        urllib.parse.quote(value, safe="").encode(),
        urllib.parse.quote(value).encode(),
        urllib.parse.quote_plus(value, safe="").encode(),
        json.dumps(value)[1:-1].encode(),
        json.dumps(value, ensure_ascii=False)[1:-1].encode("utf-8", "surrogateescape"),
        *_base64_fragments(raw),
    }
    forms = {raw} | {form for form in derived if len(form) >= MIN_DERIVED_LENGTH}
    return sorted(forms, key=lambda form: (-len(form), form))


def marker(name: str) -> bytes:
    """What a secret's value is replaced with."""
    return f"***{name}***".encode()


@dataclass(frozen=True)
class SecretHit:
    """Where a secret appears in a text: its name, and the 1-based line."""

    name: str
    line: int


class Redactor:
    """Replaces every form of the given secrets with `***NAME***`, in whole texts or streams."""

    def __init__(self, secrets: Iterable[Secret]) -> None:
        names: dict[bytes, str] = {}
        for secret in secrets:
            for form in secret_forms(secret.value):
                names.setdefault(form, secret.name)
        self._names = names
        ordered = sorted(names, key=lambda form: (-len(form), form))
        self._pattern = re.compile(b"|".join(map(re.escape, ordered))) if ordered else None

    def __bool__(self) -> bool:
        return self._pattern is not None

    def redact(self, data: bytes) -> bytes:
        """`data` with every secret form replaced."""
        if self._pattern is None:
            return data
        return self._pattern.sub(lambda match: marker(self._names[match.group()]), data)

    def redact_text(self, text: str) -> str:
        """`redact` for text; bytes that are not UTF-8 survive as surrogate escapes."""
        if self._pattern is None:
            return text
        data = self.redact(text.encode("utf-8", "surrogateescape"))
        return data.decode("utf-8", "surrogateescape")

    def redact_data(self, value: Any) -> Any:
        """`value` with every string in it redacted, through lists, tuples and dict values."""
        if isinstance(value, str):
            return self.redact_text(value)
        if isinstance(value, list | tuple):
            return type(value)(self.redact_data(item) for item in value)
        if isinstance(value, dict):
            return {key: self.redact_data(item) for key, item in value.items()}
        return value

    def redact_fields(self, item: T) -> T:
        """A copy of a dataclass instance (an event) with every string field redacted."""
        if self._pattern is None or not dataclasses.is_dataclass(item):
            return item
        fields = dataclasses.fields(item)
        changes = {f.name: self.redact_data(getattr(item, f.name)) for f in fields if f.init}
        return dataclasses.replace(item, **changes)  # type: ignore[type-var]

    def hits(self, text: str) -> list[SecretHit]:
        """Each line of `text` holding a secret form, once per secret and line."""
        if self._pattern is None:
            return []
        data = text.encode("utf-8", "surrogateescape")
        found: dict[SecretHit, None] = {}
        for match in self._pattern.finditer(data):
            line = data.count(b"\n", 0, match.start()) + 1
            found[SecretHit(self._names[match.group()], line)] = None
        return list(found)

    def pending_tail(self, data: bytes) -> int:
        """How many bytes at the end of `data` begin some secret form (held back in streams)."""
        longest = 0
        for form in self._names:
            for size in range(min(len(form) - 1, len(data)), longest, -1):
                if data.endswith(form[:size]):
                    longest = size
                    break
        return longest

    def stream(self) -> StreamRedactor:
        """A redactor for one stream of chunks, which may split a secret between them."""
        return StreamRedactor(self)


class StreamRedactor:
    """Redacts a stream chunk by chunk, holding back a tail that could begin a secret."""

    def __init__(self, redactor: Redactor) -> None:
        self._redactor = redactor
        self._pending = b""

    def feed(self, chunk: bytes) -> bytes:
        """The redacted bytes that are safe to pass on now."""
        if not self._redactor:
            return chunk
        data = self._redactor.redact(self._pending + chunk)
        keep = self._redactor.pending_tail(data)
        self._pending = data[len(data) - keep :] if keep else b""
        return data[: len(data) - keep]

    def flush(self) -> bytes:
        """What is held back, redacted: the stream has ended."""
        data, self._pending = self._redactor.redact(self._pending), b""
        return data
