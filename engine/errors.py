"""The engine's user-facing error, shared by the API and the modules behind it."""

from __future__ import annotations


class EngineError(Exception):
    """A request the engine cannot carry out; the message says what to do."""
