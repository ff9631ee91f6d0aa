"""DockerTunnel: a remote Docker socket reached through one SSH connection, kept alive.

sshd's MaxSessions (10 by default) caps *session* channels (shells, exec, sftp) per connection,
not the direct-streamlocal channels this tunnel opens for each Docker connection. Measured with
OpenSSH 9.2 and its default config: 200 Docker channels open at once through one connection all
answered, while the 11th session channel was refused. So one connection per host carries any
number of concurrent tasks, each holding several docker-py connections (a streaming exec plus API
calls).
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Literal

import asyncssh

from sandboxes.ssh.connect import ConnectSettings, open_ssh_connection
from sandboxes.ssh.errors import HostKeyError, SshAuthError, SshError, TunnelDown
from sandboxes.ssh.relay import ByteReader, ByteWriter, UnixRelay
from sandboxes.ssh.target import SshTarget

DEFAULT_REMOTE_SOCKET = "/var/run/docker.sock"

TunnelState = Literal["connecting", "connected", "reconnecting", "down"]
StateListener = Callable[[TunnelState, SshError | None], None]
"""Called on the event loop with the new state and, when it is "down", the reason (if any)."""


@dataclass(frozen=True)
class ReconnectPolicy:
    """Exponential backoff after a dropped connection, bounded in attempts and total time."""

    first_delay: float = 0.5
    max_delay: float = 15.0
    max_attempts: int = 12
    max_total: float = 120.0
    """Seconds after the drop after which no new attempt starts."""

    def delays(self) -> Iterator[float]:
        """The wait before each attempt: first_delay, doubling, capped at max_delay."""
        delay = self.first_delay
        for _attempt in range(self.max_attempts):
            yield delay
            delay = min(delay * 2, self.max_delay)


class DockerTunnel:
    """A local unix socket (in a private 0700 directory) forwarding to a remote Docker socket.

    Each local connection gets its own channel on one keepalive'd SSH connection. When that
    connection drops the tunnel reconnects with backoff; `base_url` stays the same throughout, so
    docker-py clients built on it keep working. Host keys are always checked against known_hosts;
    agent forwarding is off. State: "connecting" -> "connected" -> "reconnecting" -> "connected",
    or "down" (see `error`) when connecting fails, reconnecting gives up, or after close().
    """

    def __init__(
        self,
        target: SshTarget,
        *,
        remote_socket: str = DEFAULT_REMOTE_SOCKET,
        settings: ConnectSettings | None = None,
        reconnect: ReconnectPolicy | None = None,
    ) -> None:
        self.target = target
        self.remote_socket = remote_socket
        self.error: SshError | None = None
        self._settings = settings or ConnectSettings()
        self._reconnect_policy = reconnect or ReconnectPolicy()
        self._directory = Path(tempfile.mkdtemp(prefix="taskyard-ssh-"))
        self._relay = UnixRelay(self._directory / "docker.sock", self._open_docker_channel)
        self._state: TunnelState = "down"
        self._connection: asyncssh.SSHClientConnection | None = None
        self._supervisor: asyncio.Task[None] | None = None
        self._listeners: list[StateListener] = []
        self._waiters: list[asyncio.Future[None]] = []

    @property
    def base_url(self) -> str:
        """`unix:///.../docker.sock` for docker-py; the same for the tunnel's whole life."""
        return f"unix://{self._relay.path}"

    @property
    def state(self) -> TunnelState:
        """The connection state: connecting, connected, reconnecting or down."""
        return self._state

    def add_listener(self, listener: StateListener) -> Callable[[], None]:
        """Call listener on every state change (it must not raise); return a remover."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    async def wait_for_state(self, *states: TunnelState, timeout: float | None = None) -> None:
        """Return once the state is one of states (TimeoutError after timeout seconds)."""
        async with asyncio.timeout(timeout):
            while self._state not in states:
                waiter = asyncio.get_running_loop().create_future()
                self._waiters.append(waiter)
                await waiter

    async def start(self) -> None:
        """Connect and start forwarding; on failure the state is "down" and the SshError raised.

        Only acts when the state is "down": after a failure it tries again on the same local
        socket. A closed tunnel cannot start again.
        """
        if self._state != "down":
            return
        self._set_state("connecting")
        try:
            self._connection = await open_ssh_connection(self.target, self._settings)
        except SshError as error:
            self._set_state("down", error)
            raise
        await self._relay.start()
        self._set_state("connected")
        self._supervisor = asyncio.create_task(self._supervise(self._connection))

    async def close(self) -> None:
        """Stop forwarding, close the connection and remove the local socket."""
        if self._supervisor is not None:
            self._supervisor.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._supervisor
        await self._relay.close()
        await self._close_connection()
        shutil.rmtree(self._directory, ignore_errors=True)
        self._set_state("down")

    async def __aenter__(self) -> DockerTunnel:
        await self.start()
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()

    async def _close_connection(self) -> None:
        if self._connection is not None:
            self._connection.close()
            await self._connection.wait_closed()
            self._connection = None

    async def _supervise(self, connection: asyncssh.SSHClientConnection) -> None:
        """Wait for the connection to drop, then reconnect; give up into "down"."""
        while True:
            await connection.wait_closed()
            self._set_state("reconnecting")
            try:
                connection = await self._reconnect()
            except SshError as error:
                self._connection = None
                self._set_state("down", error)
                return
            self._connection = connection
            self._set_state("connected")

    async def _reconnect(self) -> asyncssh.SSHClientConnection:
        """A new connection, or TunnelDown once the policy's attempts or time run out.

        An untrusted host key or refused authentication ends the retries at once.
        """
        loop = asyncio.get_running_loop()
        started = loop.time()
        attempts, last_error = 0, None
        for delay in self._reconnect_policy.delays():
            if loop.time() - started + delay > self._reconnect_policy.max_total:
                break
            await asyncio.sleep(delay)
            attempts += 1
            try:
                return await open_ssh_connection(self.target, self._settings)
            except (HostKeyError, SshAuthError):
                raise
            except SshError as error:
                last_error = error
        raise TunnelDown(
            f"lost the SSH connection to {self.target}; {attempts} reconnect attempts over "
            f"{loop.time() - started:.0f}s failed, the last with: {last_error}"
        )

    async def _open_docker_channel(self) -> tuple[ByteReader, ByteWriter]:
        """A channel to the remote Docker socket, waiting out a reconnect first."""
        wait = self._reconnect_policy.max_total + self._settings.connect_timeout
        with contextlib.suppress(TimeoutError):
            await self.wait_for_state("connected", "down", timeout=wait)
        connection = self._connection
        if self._state != "connected" or connection is None:
            raise self.error or TunnelDown(f"the SSH tunnel to {self.target} is {self._state}")
        try:
            reader, writer = await connection.open_unix_connection(self.remote_socket)
        except (asyncssh.Error, OSError) as error:
            raise SshError(
                f"cannot open {self.remote_socket} on {self.target} over SSH ({error}): check "
                "that Docker runs there and the socket path is right"
            ) from error
        return reader, writer

    def _set_state(self, state: TunnelState, error: SshError | None = None) -> None:
        self._state, self.error = state, error
        waiters, self._waiters = self._waiters, []
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)
        for listener in list(self._listeners):
            listener(state, error)
