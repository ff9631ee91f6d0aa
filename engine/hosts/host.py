"""The Docker hosts tasks run on: found in the config, in Docker contexts, and locally.

A host is reached lazily, on its first task or check: a local socket directly, an SSH host
through one DockerTunnel (which reconnects by itself). Its state is what the tunnel reports, or
`down` with the reason when it could not be reached.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from engine.config import DEFAULT_MAX_TASKS, DEFAULT_RECONNECT_SECONDS, Config
from sandboxes.base import SandboxBackend, SandboxError

if TYPE_CHECKING:
    from sandboxes.ssh import DockerTunnel, SshTarget

HostKind = Literal["docker", "ssh"]
HostState = Literal["idle", "connecting", "connected", "reconnecting", "down"]
LOCAL = "local"
LOCAL_SOCKET = "unix:///var/run/docker.sock"
StateListener = Callable[["Host"], None]
CONTEXT_ORIGIN = "docker context"


class HostError(Exception):
    """A host is unknown or cannot be reached; the message says which and what to do."""


@dataclass(frozen=True)
class HostSpec:
    """Where a host is and how many tasks it takes at once."""

    name: str
    kind: HostKind
    address: str
    """`unix:///…` for a socket on this machine, `[user@]host[:port]` for SSH; empty for the
    local engine as DOCKER_HOST or the default socket names it."""
    max_tasks: int = DEFAULT_MAX_TASKS
    identity_file: Path | None = None
    known_hosts: Path | None = None
    origin: str = "config"
    """Where it was found: config, docker context, or default."""
    reconnect_seconds: float = DEFAULT_RECONNECT_SECONDS
    """How long a dropped SSH connection is tried again before the host is down."""

    @property
    def shown_address(self) -> str:
        return self.address or os.environ.get("DOCKER_HOST") or LOCAL_SOCKET


def docker_config_dir() -> Path:
    """Docker's client config directory: DOCKER_CONFIG, or ~/.docker."""
    return Path(os.environ.get("DOCKER_CONFIG") or Path.home() / ".docker")


def docker_contexts(config_dir: Path) -> list[HostSpec]:
    """The person's Docker contexts whose endpoint is ssh:// or unix://, as hosts."""
    found: list[HostSpec] = []
    for meta in sorted((config_dir / "contexts" / "meta").glob("*/meta.json")):
        try:
            data = json.loads(meta.read_text())
            name, endpoint = data["Name"], data["Endpoints"]["docker"]["Host"]
        except (OSError, ValueError, KeyError, TypeError):
            continue
        if isinstance(endpoint, str) and endpoint.startswith("ssh://"):
            address = endpoint.removeprefix("ssh://")
            found.append(HostSpec(name, "ssh", address, origin=CONTEXT_ORIGIN))
        elif isinstance(endpoint, str) and endpoint.startswith("unix://"):
            found.append(HostSpec(name, "docker", endpoint, origin=CONTEXT_ORIGIN))
    return found


def configured_hosts(config: Config) -> list[HostSpec]:
    """[hosts.NAME] tables, in the order written."""
    specs: list[HostSpec] = []
    for name, host in config.hosts.items():
        kind: HostKind = "ssh" if host.ssh is not None else "docker"
        address = host.ssh if host.ssh is not None else host.docker or ""
        specs.append(
            HostSpec(
                name,
                kind,
                address,
                host.max_tasks,
                host.identity_file,
                host.known_hosts,
                reconnect_seconds=host.reconnect_seconds,
            )
        )
    return specs


def host_specs(config: Config, contexts_dir: Path | None = None) -> list[HostSpec]:
    """Configured hosts, then Docker contexts of other names, then `local` unless configured."""
    specs = configured_hosts(config)
    names = {spec.name for spec in specs}
    for context in docker_contexts(contexts_dir or docker_config_dir()):
        if context.name not in names:
            specs.append(context)
            names.add(context.name)
    if LOCAL not in names:
        specs.append(HostSpec(LOCAL, "docker", "", origin="default"))
    return specs


class Host:
    """One host at run time: its backend once reached, its state, the tasks it runs."""

    def __init__(self, spec: HostSpec, backend: SandboxBackend | None = None) -> None:
        self.spec = spec
        self.state: HostState = "idle"
        self.error = ""
        self.running: set[str] = set()
        self._backend = backend
        self._tunnel: DockerTunnel | None = None
        self._lock = asyncio.Lock()
        self._listeners: list[StateListener] = []

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def free(self) -> int:
        return self.spec.max_tasks - len(self.running)

    def add_listener(self, listener: StateListener) -> None:
        self._listeners.append(listener)

    async def connect(self) -> SandboxBackend:
        """The host's backend, reached (or reached again) now; HostError when it cannot be."""
        async with self._lock:
            if self._backend is not None and self.state in ("connected", "reconnecting"):
                return self._backend
            self._set_state("connecting")
            try:
                backend = self._backend or await self._open()
                if self._tunnel is not None:
                    await self._tunnel.start()
                await backend.ping()
            except (SandboxError, ValueError) as error:
                self._set_state("down", str(error))
                raise HostError(f"host {self.name} ({self.spec.shown_address}): {error}") from None
            self._backend = backend
            self._set_state("connected")
            return backend

    async def _open(self) -> SandboxBackend:
        from sandboxes.docker import DockerBackend

        if self.spec.kind == "docker":
            return DockerBackend(self.spec.address or None)
        tunnel = self._tunnel or self._make_tunnel()
        return DockerBackend(tunnel.base_url, link=tunnel)

    def ssh_target(self) -> SshTarget:
        """Where an SSH host is, with the files that authenticate it; ValueError when its
        address is not an SSH target."""
        from sandboxes.ssh import parse_ssh_target

        return parse_ssh_target(
            self.spec.address,
            identity_file=self.spec.identity_file,
            known_hosts=self.spec.known_hosts,
        )

    def _make_tunnel(self) -> DockerTunnel:
        from sandboxes.ssh import DockerTunnel, ReconnectPolicy

        policy = ReconnectPolicy(max_total=self.spec.reconnect_seconds)
        tunnel = DockerTunnel(self.ssh_target(), reconnect=policy)
        tunnel.add_listener(self._tunnel_changed)
        self._tunnel = tunnel
        return tunnel

    def _tunnel_changed(self, state: str, error: Exception | None) -> None:
        if state in ("connected", "reconnecting", "down") and self.state != "connecting":
            self._set_state(state, str(error) if error else "")  # type: ignore[arg-type]

    def mark_down(self, reason: str) -> None:
        """Record that the host could not be reached, and why."""
        self._set_state("down", reason)

    def _set_state(self, state: HostState, error: str = "") -> None:
        self.state, self.error = state, error
        for listener in self._listeners:
            listener(self)

    async def close(self) -> None:
        if self._tunnel is not None:
            await self._tunnel.close()
