"""Sandboxes as Docker containers through docker-py; every blocking call runs off the event loop."""

from __future__ import annotations

import asyncio
import contextlib
import errno
import io
import os
import posixpath
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, TypeVar

import docker
import docker.errors
import docker.utils
import requests
from docker.api.client import APIClient

from sandboxes.base import (
    MANAGED_LABEL,
    BackendUnavailable,
    DiskUsage,
    ExecResult,
    ImageNotFound,
    OutputCallback,
    RunLost,
    RuntimeNotInstalled,
    Sandbox,
    SandboxBackend,
    SandboxError,
    SandboxInfo,
    SandboxRestart,
    SandboxSpec,
)
from sandboxes.docker_archive import (
    absolute,
    copy_host_path_in,
    put_archive_creating_dirs,
    read_archive_file,
    tar_of_file,
    write_host_file,
)
from sandboxes.docker_exec import (
    ENGINE_RESTART_NOTE,
    GROUP_SCRIPT,
    ExecOutput,
    LostStream,
    ReceivedOutput,
    ThreadedStream,
    end_run,
    feed_input,
    is_running,
    resume_command,
    revive,
    run_directory,
    start_exec_stream,
)
from sandboxes.image import DEFAULT_IMAGE_TAG, default_image_tag, dockerfile_bytes

__all__ = ["DEFAULT_IMAGE_TAG", "DockerBackend", "DockerSandbox", "default_image_tag"]

T = TypeVar("T")


class Link(Protocol):
    """What an engine is reached through when that can drop and come back: an SSH tunnel."""

    @property
    def state(self) -> str:
        """connecting, connected, reconnecting or down."""
        ...

    @property
    def error(self) -> Exception | None:
        """Why it is down, when it is."""
        ...


DEFAULT_DOCKER_HOST = "unix:///var/run/docker.sock"
SANDBOX_CAPABILITIES = [
    "CHOWN",
    "DAC_OVERRIDE",
    "FOWNER",
    "FSETID",
    "SETUID",
    "SETGID",
    "KILL",
    "NET_BIND_SERVICE",
]
KEEPALIVE_COMMAND = ["sleep", "infinity"]
SANDBOX_NETWORK = "taskyard"
"""The bridge network every sandbox with network joins; its containers cannot reach each
other, and Docker keeps them from containers on other networks of the engine."""
NO_ICC_OPTION = "com.docker.network.bridge.enable_icc"
SANDBOX_CPU_SHARES = 256
"""A quarter of Docker's default CPU weight (1024): under contention other containers get
four times a sandbox's share; alone, a sandbox still gets its whole CPU limit."""
STOP_TIMEOUT_SECONDS = 5
KILL_GRACE_SECONDS = 5.0
RESUME_WAIT_SECONDS = 150.0
"""How long a command whose connection was lost waits for the engine to answer again (longer
than an SSH tunnel's own reconnect budget)."""
STOPPING_RETRIES = 8
"""How often resuming a command tries again when its sandbox refuses the exec: it was found
running while it stopped, and is started on the next try."""
RESUME_FIRST_DELAY = 0.25
RESUME_MAX_DELAY = 2.0
LINK_RETRIES = 3
LINK_FIRST_DELAY = 0.1
LINK_POLL_SECONDS = 0.1
CONFLICT = 409
GO_MODE_DIR = 1 << 31
GO_MODE_SYMLINK = 1 << 27
MAX_SYMLINK_HOPS = 8
INVALID_REFERENCE = "invalid reference format"
"""What Docker says of an image reference it cannot parse."""


def unreachable_message(where: str) -> str:
    """The message for a Docker engine that does not answer."""
    return (
        f"Docker is not reachable at {where}: start the Docker engine "
        "(e.g. `sudo systemctl start docker`) or set DOCKER_HOST"
    )


class DockerConnection:
    """A lazily opened docker-py client, the address it talks to, and error translation."""

    def __init__(self, base_url: str | None, timeout: int, link: Link | None = None) -> None:
        self.base_url = base_url
        self.link = link
        self.where = base_url or os.environ.get("DOCKER_HOST") or DEFAULT_DOCKER_HOST
        self._timeout = timeout
        self._client: docker.DockerClient | None = None
        self._lock = threading.Lock()
        self._info: dict[str, Any] | None = None

    def api(self) -> APIClient:
        """The low-level client, opened on first use (this contacts the daemon)."""
        with self._lock:
            if self._client is None:
                self._client = self._open_client()
            return self._client.api

    def _open_client(self) -> docker.DockerClient:
        if self.base_url is None:
            return docker.from_env(timeout=self._timeout, max_pool_size=64)
        return docker.DockerClient(base_url=self.base_url, timeout=self._timeout, max_pool_size=64)

    def engine_info(
        self, api: APIClient, runtime: str | None = None, refresh: bool = False
    ) -> dict[str, Any]:
        """The engine's `docker info` (its CPUs, its runtimes): asked once, and again with
        `refresh` or when it lacks `runtime` (one installed since)."""
        info = self._info
        lacking = (
            runtime is not None and info is not None and runtime not in installed_runtimes(info)
        )
        if info is None or refresh or lacking:
            info = self._info = api.info()
        return info

    def blocking(self, call: Callable[[APIClient], T]) -> T:
        """Run call with the client on this thread, translating Docker errors."""
        try:
            return call(self.api())
        except (docker.errors.DockerException, requests.exceptions.RequestException) as error:
            raise self.translate(error) from error

    async def run(self, call: Callable[[APIClient], T]) -> T:
        """Run call with the client on a worker thread; while the link reconnects, wait for it."""
        for attempt in range(LINK_RETRIES + 1):
            try:
                return await asyncio.to_thread(self.blocking, call)
            except BackendUnavailable:
                if attempt == LINK_RETRIES or not await self.link_back(attempt):
                    raise
        raise AssertionError("unreachable")

    async def link_back(self, attempt: int) -> bool:
        """After a failed call: wait while the link reconnects. True to try again; False when
        there is no link; BackendUnavailable when the link is down for good."""
        if self.link is None:
            return False
        await asyncio.sleep(LINK_FIRST_DELAY * 2**attempt)
        while self.link.state in ("connecting", "reconnecting"):
            await asyncio.sleep(LINK_POLL_SECONDS)
        if self.link.state == "down":
            raise BackendUnavailable(str(self.link.error or f"the link to {self.where} is down"))
        return True

    def translate(self, error: Exception) -> SandboxError:
        """Turn a docker-py or transport error into a SandboxError with a useful message."""
        if isinstance(error, docker.errors.APIError):
            return SandboxError(str(error.explanation or error))
        return BackendUnavailable(f"{unreachable_message(self.where)} ({error})")


@dataclass(frozen=True)
class CommandRun:
    """One command in a container: the directory that records it, and the user it runs as."""

    run_dir: str
    user: str


@dataclass(frozen=True)
class Killed:
    """A command killed at its timeout; `restart` says when that took restarting the sandbox."""

    restart: SandboxRestart | None


@dataclass(frozen=True)
class Interrupted:
    """A command ended from outside, with no exit status: `reason` says how."""

    reason: str


Ended = int | Killed | Interrupted
"""How a followed command ended: its exit code, killed at its timeout, or interrupted."""


class DockerSandbox(Sandbox):
    """One taskyard container."""

    def __init__(self, connection: DockerConnection, container_id: str) -> None:
        self.id = container_id
        self._connection = connection
        self._read_runs: list[str] = []
        """Directories of commands read to their end; the next command removes them."""

    async def exec(
        self,
        argv: list[str],
        *,
        workdir: str | None = None,
        env: dict[str, str] | None = None,
        timeout: float | None = None,
        on_output: OutputCallback | None = None,
        user: str | None = None,
        run_id: str | None = None,
        stdin_path: str | None = None,
    ) -> ExecResult:
        """Run argv (as user, default the image's), its processes marked as this command's run,
        `stdin_path` (a host file) written to its standard input.

        At timeout or cancellation every process the command started is killed, however it
        detached; when that cannot be done from inside (the sandbox is out of processes), the
        sandbox is restarted. When the connection to the engine is lost, the command goes on in
        the container; its output resumes from where it was cut once the engine answers again.
        When the engine restarted and stopped the sandbox meanwhile, the sandbox is started
        again and the command is reported interrupted, with its output until then.
        """
        started = time.monotonic()
        if stdin_path is not None and not os.path.isfile(stdin_path):
            raise FileNotFoundError(errno.ENOENT, "No such file for a command's input", stdin_path)
        run = CommandRun(run_directory(run_id or uuid.uuid4().hex), user or "")
        stale, self._read_runs = " ".join(self._read_runs), []
        command = ["sh", "-c", GROUP_SCRIPT, "sh", run.run_dir, stale, *argv]
        exec_id = await self._create_exec(
            command, workdir=workdir, environment=env, user=run.user, stdin=stdin_path is not None
        )
        return await self._follow_to_end(exec_id, run, on_output, started, timeout, stdin_path)

    async def reattach(
        self,
        run_id: str,
        *,
        timeout: float | None = None,
        on_output: OutputCallback | None = None,
        user: str | None = None,
    ) -> ExecResult:
        """Follow a run `exec` started, from the first byte of its output kept in the container
        to its end; RunLost when its record is gone or it ended without an exit status."""
        started = time.monotonic()
        run = CommandRun(run_directory(run_id), user or "")
        exec_id = await self._create_exec(resume_command(run.run_dir, 0), user="0")
        return await self._follow_to_end(exec_id, run, on_output, started, timeout)

    async def _follow_to_end(
        self,
        exec_id: str,
        run: CommandRun,
        on_output: OutputCallback | None,
        started: float,
        timeout: float | None,
        stdin_path: str | None = None,
    ) -> ExecResult:
        """Follow the exec of a run to its end and say how it ended."""
        deadline = None if timeout is None else started + timeout
        ended = await self._follow(exec_id, run, ReceivedOutput(on_output), deadline, stdin_path)
        duration = time.monotonic() - started
        if isinstance(ended, Killed):
            return ExecResult(None, timed_out=True, duration=duration, restart=ended.restart)
        self._read_runs.append(posixpath.basename(run.run_dir))
        if isinstance(ended, Interrupted):
            return ExecResult(None, False, duration, interrupted=ended.reason)
        return ExecResult(ended, timed_out=False, duration=duration)

    async def _create_exec(self, command: list[str], **options: Any) -> str:
        exec_id: str = await self._connection.run(
            lambda api: api.exec_create(self.id, command, **options)["Id"]
        )
        return exec_id

    async def _follow(
        self,
        exec_id: str,
        run: CommandRun,
        received: ReceivedOutput,
        deadline: float | None,
        stdin_path: str | None = None,
    ) -> Ended:
        """The command's exit code, its output streamed; Killed when it timed out.

        After a lost connection, waits for the engine and streams the rest of the output from
        the command's own copy of it; Interrupted when the engine stopped the sandbox meanwhile.
        The input, when there is one, goes to the command's own exec only.
        """
        revived = False
        while True:
            try:
                return await self._stream(exec_id, run, received, deadline, stdin_path)
            except LostStream as lost:
                stdin_path = None
                exec_id, restarted = await self._resume(run.run_dir, received.size, lost)
                revived = revived or restarted
            except RunLost:
                if not revived:
                    raise
                return Interrupted(ENGINE_RESTART_NOTE)

    async def _resume(self, run_dir: str, sent: int, lost: LostStream) -> tuple[str, bool]:
        """Wait until the engine answers, start the sandbox if the engine stopped it, then start
        streaming the output from byte `sent`; the exec and whether the sandbox was started.

        A linked engine is waited for as long as its link reconnects; a local one for
        RESUME_WAIT_SECONDS. A sandbox still stopping is tried again STOPPING_RETRIES times."""
        give_up = time.monotonic() + RESUME_WAIT_SECONDS
        delay = RESUME_FIRST_DELAY
        revived = False
        refused = 0
        while True:
            try:
                revived = await self._connection.run(lambda api: revive(api, self.id)) or revived
                return await self._create_exec(resume_command(run_dir, sent), user="0"), revived
            except BackendUnavailable as error:
                if self._connection.link is not None:
                    raise
                if time.monotonic() + delay > give_up:
                    raise BackendUnavailable(
                        f"lost the Docker engine at {self._connection.where} while a command "
                        f"was running ({lost}) and it did not answer again within "
                        f"{RESUME_WAIT_SECONDS:g}s: {error}"
                    ) from error
            except SandboxError:
                refused += 1
                if refused > STOPPING_RETRIES:
                    raise
            await asyncio.sleep(delay)
            delay = min(delay * 2, RESUME_MAX_DELAY)

    async def _stream(
        self,
        exec_id: str,
        run: CommandRun,
        received: ReceivedOutput,
        deadline: float | None,
        stdin_path: str | None = None,
    ) -> int | Killed:
        """Start one exec of the command (or of its resumption) and stream it to its end,
        writing stdin_path to its input meanwhile."""
        output = ExecOutput(lambda: self._open_exec(exec_id, stdin_path))
        stream = ThreadedStream(output.chunks(), name=f"taskyard-exec-{exec_id[:12]}")
        remaining = None if deadline is None else max(0.0, deadline - time.monotonic())
        try:
            finished = await stream.deliver(received.deliver, remaining)
        except LostStream:
            raise
        except BaseException:
            with contextlib.suppress(SandboxError):
                await asyncio.shield(self._end_run(run))
            output.abort()
            raise
        if not finished:
            restart = await self._end_run(run)
            if not await stream.deliver(received.deliver, KILL_GRACE_SECONDS):
                output.abort()
            return Killed(restart)
        return output.exit_code()

    def _open_exec(self, exec_id: str, stdin_path: str | None = None) -> Any:
        """Start an exec and return its stream (blocking), stdin_path written to its input on a
        thread of its own; LostStream when the sandbox stopped meanwhile, so that the command
        resumes once it is started again."""
        try:
            stream = self._connection.blocking(lambda api: start_exec_stream(api, exec_id))
        except BackendUnavailable:
            raise
        except SandboxError as error:
            if self._connection.blocking(lambda api: is_running(api, self.id)):
                raise
            raise LostStream(f"the sandbox stopped: {error}") from error
        if stdin_path is not None:
            feed_input(stream, stdin_path)
        return stream

    async def _end_run(self, run: CommandRun) -> SandboxRestart | None:
        return await self._connection.run(lambda api: end_run(api, self.id, run.run_dir, run.user))

    async def read_file(self, path: str) -> bytes:
        """Return a file's bytes; FileNotFoundError or IsADirectoryError when it is not a file."""
        return await self._connection.run(lambda api: read_archive_file(api, self.id, path))

    async def write_file(self, path: str, data: bytes, mode: int = 0o644) -> None:
        """Write a file (binary safe), creating parent directories."""
        directory, name = posixpath.split(absolute(path))
        archive = tar_of_file(name, data, mode)
        await self._connection.run(
            lambda api: put_archive_creating_dirs(api, self.id, directory, archive)
        )

    async def copy_in(self, host_path: str, sandbox_dir: str) -> None:
        """Copy a host file into sandbox_dir (created if missing), keeping its name."""
        directory = absolute(sandbox_dir)
        await self._connection.run(
            lambda api: copy_host_path_in(api, self.id, host_path, directory)
        )

    async def copy_out(self, sandbox_path: str, host_path: str) -> None:
        """Copy one sandbox file to host_path, creating its parent directories."""
        data = await self.read_file(sandbox_path)
        await asyncio.to_thread(write_host_file, Path(host_path), data)

    async def disk_usage(self) -> DiskUsage:
        """The bytes in the container's writable layer, and whether a storage quota holds it."""
        return await self._connection.run(lambda api: disk_usage(api, self.id))

    async def set_network(self, enabled: bool) -> None:
        """Connect the sandbox network, or disconnect every network (loopback stays)."""
        await self._connection.run(
            lambda api: set_container_network(api, self.id, enabled, self._connection.where)
        )

    async def start(self) -> None:
        """Start the container again after stop() (nothing when it runs); the commands it was
        running when it stopped are recorded as lost."""
        await self._connection.run(lambda api: revive(api, self.id))

    async def stop(self) -> None:
        """Stop the container, keeping its filesystem."""
        await self._connection.run(lambda api: api.stop(self.id, timeout=STOP_TIMEOUT_SECONDS))

    async def remove(self) -> None:
        """Remove the container and its anonymous volumes; a missing container is fine."""
        await self._connection.run(lambda api: remove_container(api, self.id))


class DockerBackend(SandboxBackend):
    """A Docker engine, local or reached through base_url (e.g. a forwarded unix socket)."""

    name = "docker"

    def __init__(
        self,
        base_url: str | None = None,
        *,
        timeout: int = 60,
        link: Link | None = None,
    ) -> None:
        self._connection = DockerConnection(base_url, timeout, link)

    @property
    def where(self) -> str:
        """The address of the Docker engine, for messages."""
        return self._connection.where

    async def ping(self) -> None:
        """Raise BackendUnavailable with a clear message if the engine does not answer."""
        await self._connection.run(lambda api: api.ping())

    async def create(self, spec: SandboxSpec) -> DockerSandbox:
        """Create and start a hardened, labelled container (ImageNotFound if no such image)."""
        container_id = await self._connection.run(
            lambda api: create_container(
                api, spec, self.where, self._connection.engine_info(api, spec.runtime)
            )
        )
        return DockerSandbox(self._connection, container_id)

    async def attach(self, sandbox_id: str) -> DockerSandbox:
        """Return a handle on an existing taskyard container (SandboxError if it is gone)."""
        container_id = await self._connection.run(
            lambda api: managed_container_id(api, sandbox_id, self.where)
        )
        return DockerSandbox(self._connection, container_id)

    async def list(self, labels: dict[str, str] | None = None) -> list[SandboxInfo]:
        """List taskyard's containers (running or not) carrying all the given labels."""
        filters = {"label": label_filters(labels or {})}
        rows = await self._connection.run(lambda api: api.containers(all=True, filters=filters))
        return [sandbox_info(row) for row in rows]

    async def has_image(self, image: str) -> bool:
        """Whether the image exists on the engine."""
        return await self._connection.run(lambda api: image_exists(api, image))

    async def runtimes(self) -> tuple[str, ...]:
        """The runtimes the engine has (`docker info`), sorted."""
        info = await self._connection.run(
            lambda api: self._connection.engine_info(api, refresh=True)
        )
        return tuple(installed_runtimes(info))

    async def build_image(
        self, tag: str = DEFAULT_IMAGE_TAG, on_output: OutputCallback | None = None
    ) -> None:
        """Build the bundled Dockerfile as tag, streaming the build log to on_output."""
        chunks = build_log(self._connection, tag)
        await ThreadedStream(chunks, name="taskyard-image-build").deliver(on_output, None)


def create_container(api: APIClient, spec: SandboxSpec, where: str, engine: dict[str, Any]) -> str:
    """Create and start a container for spec on the engine `engine` describes (`docker info`);
    return its id."""
    check_runtime(spec.runtime, engine, where)
    ensure_sandbox_network(api, where)
    host_config = hardened_host_config(api, spec, engine.get("NCPU") or 1)
    try:
        created = create_with_disk_limit(api, spec, host_config)
    except docker.errors.ImageNotFound as error:
        raise ImageNotFound(
            f"image {spec.image} not found on {where}: "
            "run `taskyard image build` or choose another image"
        ) from error
    container_id: str = created["Id"]
    try:
        if not spec.network:
            api.disconnect_container_from_network(container_id, SANDBOX_NETWORK)
        api.start(container_id)
    except docker.errors.APIError:
        api.remove_container(container_id, force=True)
        raise
    return container_id


def create_with_disk_limit(
    api: APIClient, spec: SandboxSpec, host_config: dict[str, Any]
) -> dict[str, Any]:
    """Create the container with its disk limit where the storage driver can enforce one,
    otherwise without (the engine then watches what it writes)."""
    if spec.disk is not None:
        try:
            return create_labelled(api, spec, {**host_config, "StorageOpt": {"size": spec.disk}})
        except docker.errors.APIError as error:
            if "storage-opt" not in str(error.explanation or "").lower():
                raise
    return create_labelled(api, spec, host_config)


def create_labelled(
    api: APIClient, spec: SandboxSpec, host_config: dict[str, Any]
) -> dict[str, Any]:
    created: dict[str, Any] = api.create_container(
        spec.image,
        command=KEEPALIVE_COMMAND,
        name=spec.name,
        labels={**spec.labels, MANAGED_LABEL: "true"},
        environment=spec.env,
        working_dir=spec.workdir,
        host_config=host_config,
        detach=True,
    )
    return created


def check_runtime(runtime: str | None, engine: dict[str, Any], where: str) -> None:
    """RuntimeNotInstalled when the engine lacks the requested runtime."""
    installed = installed_runtimes(engine)
    if runtime is not None and runtime not in installed:
        raise RuntimeNotInstalled(runtime, installed, where)


def installed_runtimes(engine: dict[str, Any]) -> list[str]:
    """The runtimes in the engine's `docker info`, sorted."""
    return sorted(engine.get("Runtimes") or {})


def hardened_host_config(api: APIClient, spec: SandboxSpec, host_cpus: int) -> dict[str, Any]:
    """No new privileges, a minimal capability set, pids/memory/CPU limits, an init, the
    sandbox network and the requested runtime.

    Without a CPU limit a sandbox gets every CPU of the host but one, so one busy task leaves a
    CPU free; every sandbox runs at a quarter of Docker's default CPU weight, so busy tasks
    together yield to the engine's other containers."""
    cpus = spec.cpus if spec.cpus is not None else max(1, host_cpus - 1)
    host_config: dict[str, Any] = api.create_host_config(
        security_opt=["no-new-privileges:true"],
        cap_drop=["ALL"],
        cap_add=SANDBOX_CAPABILITIES,
        pids_limit=spec.pids_limit,
        mem_limit=spec.memory,
        memswap_limit=spec.memory,
        nano_cpus=int(cpus * 1_000_000_000),
        cpu_shares=SANDBOX_CPU_SHARES,
        init=True,
        network_mode=SANDBOX_NETWORK,
        runtime=spec.runtime,
    )
    return host_config


def disk_usage(api: APIClient, container_id: str) -> DiskUsage:
    """The bytes in the container's writable layer, and whether a storage quota holds it."""
    client: Any = api
    url = client._url("/containers/{0}/json", container_id)
    details = client._result(client._get(url, params={"size": 1}), True)
    storage = details["HostConfig"].get("StorageOpt") or {}
    return DiskUsage(written=details.get("SizeRw") or 0, enforced="size" in storage)


def managed_container_id(api: APIClient, sandbox_id: str, where: str) -> str:
    """The full id of a taskyard container, or SandboxError if it is missing or not ours."""
    try:
        details = api.inspect_container(sandbox_id)
    except docker.errors.NotFound as error:
        raise SandboxError(f"sandbox {sandbox_id} not found on {where}") from error
    if details["Config"]["Labels"].get(MANAGED_LABEL) != "true":
        raise SandboxError(f"container {sandbox_id} on {where} is not a taskyard sandbox")
    container_id: str = details["Id"]
    return container_id


def label_filters(labels: dict[str, str]) -> list[str]:
    """Docker label filters: taskyard's own label plus every requested key=value."""
    return [f"{MANAGED_LABEL}=true", *(f"{key}={value}" for key, value in labels.items())]


def sandbox_info(row: dict[str, Any]) -> SandboxInfo:
    """A SandboxInfo from one row of the container list."""
    names = row.get("Names") or [row["Id"]]
    return SandboxInfo(
        id=row["Id"], name=names[0].lstrip("/"), status=row["State"], labels=row["Labels"] or {}
    )


def image_exists(api: APIClient, image: str) -> bool:
    """Whether the image is present on the engine; SandboxError when `image` is not a valid
    image reference."""
    try:
        api.inspect_image(image)  # type: ignore[no-untyped-call]
    except docker.errors.ImageNotFound:
        return False
    except docker.errors.NullResource:
        raise invalid_image_reference(image, "it is empty") from None
    except docker.errors.APIError as error:
        if not error.is_client_error():
            raise
        raise invalid_image_reference(image, str(error.explanation or error)) from None
    return True


def invalid_image_reference(image: str, reason: str) -> SandboxError:
    """The error for an image reference Docker cannot parse, with the part that says why."""
    reason = reason[reason.find(INVALID_REFERENCE) :] if INVALID_REFERENCE in reason else reason
    return SandboxError(
        f"image reference {image!r} is not valid: {reason}. Name an image as "
        "`name:tag` in lowercase, e.g. taskyard-sandbox:latest"
    )


def remove_container(api: APIClient, container_id: str) -> None:
    """Force-remove a container; a container already gone is fine."""
    try:
        api.remove_container(container_id, force=True, v=True)
    except docker.errors.NotFound:
        return


def ensure_sandbox_network(api: APIClient, where: str) -> None:
    """Create the sandbox network when the engine has none; SandboxError when the one it has
    lets containers reach each other."""
    try:
        network = api.inspect_network(SANDBOX_NETWORK)
    except docker.errors.NotFound:
        network = create_sandbox_network(api)
    if (network.get("Options") or {}).get(NO_ICC_OPTION) != "false":
        raise SandboxError(
            f"the Docker network {SANDBOX_NETWORK} on {where} lets its containers reach each "
            f"other: remove it (`docker network rm {SANDBOX_NETWORK}`) and taskyard makes it "
            "again with inter-container traffic off"
        )


def create_sandbox_network(api: APIClient) -> dict[str, Any]:
    """Create the sandbox network (a bridge with inter-container traffic off); a network made
    meanwhile by another task is taken as it is."""
    try:
        api.create_network(
            SANDBOX_NETWORK,
            driver="bridge",
            options={NO_ICC_OPTION: "false"},
            labels={MANAGED_LABEL: "true"},
            check_duplicate=True,
        )
    except docker.errors.APIError as error:
        if error.status_code != CONFLICT:
            raise
    network: dict[str, Any] = api.inspect_network(SANDBOX_NETWORK)
    return network


def set_container_network(api: APIClient, container_id: str, enabled: bool, where: str) -> None:
    """Connect the sandbox network (and no other) when enabled, otherwise disconnect every
    network."""
    if enabled:
        ensure_sandbox_network(api, where)
    networks = api.inspect_container(container_id)["NetworkSettings"]["Networks"] or {}
    for network in networks:
        if not enabled or network != SANDBOX_NETWORK:
            api.disconnect_container_from_network(container_id, network)
    if enabled and SANDBOX_NETWORK not in networks:
        api.connect_container_to_network(container_id, SANDBOX_NETWORK)


def build_log(connection: DockerConnection, tag: str) -> Iterator[bytes]:
    """Build the bundled Dockerfile, yielding log lines; SandboxError with the failing step."""
    if not docker.utils.match_tag(tag):
        raise invalid_image_reference(tag, INVALID_REFERENCE)
    events = connection.blocking(
        lambda api: api.build(
            fileobj=io.BytesIO(dockerfile_bytes()), tag=tag, rm=True, forcerm=True, decode=True
        )
    )
    for event in events:
        if "error" in event:
            raise SandboxError(f"building {tag} failed: {event['error'].strip()}")
        text = event.get("stream") or event.get("status")
        if text:
            yield text.encode() if text.endswith("\n") else f"{text}\n".encode()
