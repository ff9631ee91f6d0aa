"""Docker over SSH: targets, the tunnel to a remote Docker socket, and its errors."""

from sandboxes.ssh.connect import ConnectSettings
from sandboxes.ssh.errors import HostKeyError, SshAuthError, SshError, SshUnreachable, TunnelDown
from sandboxes.ssh.target import SshTarget, parse_ssh_target
from sandboxes.ssh.tunnel import DockerTunnel, ReconnectPolicy, StateListener, TunnelState

__all__ = [
    "ConnectSettings",
    "DockerTunnel",
    "HostKeyError",
    "ReconnectPolicy",
    "SshAuthError",
    "SshError",
    "SshTarget",
    "SshUnreachable",
    "StateListener",
    "TunnelDown",
    "TunnelState",
    "parse_ssh_target",
]
