"""What a client is told when the service cannot be reached."""

from __future__ import annotations

from engine.errors import EngineError


class ServiceError(EngineError):
    """The service cannot be reached, refused this client, or went away."""


class NotRunning(ServiceError):
    """No service answers on the socket."""
