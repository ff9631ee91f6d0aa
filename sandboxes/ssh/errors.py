"""Errors of the SSH transport; each message names the host and says what to do."""

from __future__ import annotations

from sandboxes.base import BackendUnavailable


class SshError(BackendUnavailable):
    """The Docker host behind SSH cannot be used right now."""


class SshUnreachable(SshError):
    """No SSH connection could be made: the host or its sshd does not answer."""


class SshAuthError(SshError):
    """The SSH server refused every key offered."""


class HostKeyError(SshError):
    """The server's host key is not trusted by known_hosts (unknown or changed)."""

    def __init__(self, message: str, *, fingerprint: str, changed: bool) -> None:
        super().__init__(message)
        self.fingerprint = fingerprint
        self.changed = changed


class TunnelDown(SshError):
    """The connection dropped and reconnecting gave up; the host counts as down."""
