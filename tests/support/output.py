"""Collect a sandbox command's streamed output in tests."""

from __future__ import annotations

import asyncio


class Output:
    """Collects output chunks and signals when a marker has arrived."""

    def __init__(self, marker: bytes = b"") -> None:
        self.chunks: list[bytes] = []
        self.marker = marker
        self.seen_marker = asyncio.Event()

    def __call__(self, chunk: bytes) -> None:
        self.chunks.append(chunk)
        if self.marker and self.marker in self.data:
            self.seen_marker.set()

    @property
    def data(self) -> bytes:
        return b"".join(self.chunks)
