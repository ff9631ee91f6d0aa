"""Errors raised while parsing or applying a patch."""

from __future__ import annotations


class PatchError(Exception):
    """A patch could not be parsed or applied; `message` is meant for the model to read."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class PatchParseError(PatchError):
    """The patch text does not follow the `*** Begin Patch` format."""
