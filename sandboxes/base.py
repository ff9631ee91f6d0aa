"""The sandbox interface: an isolated place to run commands and move files.

One implementation per transport (Docker today, Docker over SSH next) and a fake for unit tests.
Everything here is async; implementations never block the event loop.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field

OutputCallback = Callable[[bytes], None]
"""Receives raw output bytes (stdout and stderr interleaved) on the event loop, as they arrive."""

LABEL_PREFIX = "dev.taskyard"
MANAGED_LABEL = f"{LABEL_PREFIX}.managed"


class SandboxError(Exception):
    """A sandbox operation failed; the message says what and what to do."""


class BackendUnavailable(SandboxError):
    """The engine behind the sandboxes (e.g. the Docker daemon) cannot be reached."""


class ImageNotFound(SandboxError):
    """The requested image does not exist on the backend."""


class RunLost(SandboxError):
    """A command's run cannot be followed to its end: its record in the sandbox is gone, or it
    ended without recording an exit status (its processes were killed from outside)."""


class RuntimeNotInstalled(SandboxError):
    """The requested container runtime is not installed on the backend."""

    def __init__(self, runtime: str, installed: list[str], where: str) -> None:
        self.runtime = runtime
        self.installed = installed
        super().__init__(
            f"runtime {runtime} is not installed on the Docker engine at {where} "
            f"(it has: {', '.join(installed) or 'none'})"
        )


@dataclass(frozen=True)
class SandboxSpec:
    """What to create: image, labels, environment, limits and whether the network starts on."""

    image: str
    labels: dict[str, str] = field(default_factory=dict)
    env: dict[str, str] = field(default_factory=dict)
    network: bool = True
    memory: str = "4g"
    pids_limit: int = 1024
    cpus: float | None = None
    """CPUs the sandbox may use; None means the host's CPUs less one (at least one)."""
    disk: str | None = None
    """Bytes the sandbox may write (Docker syntax: 20g), where the storage driver enforces it."""
    runtime: str | None = None
    """The container runtime (e.g. runsc); the engine's default when None."""
    workdir: str = "/workspace"
    name: str | None = None


@dataclass(frozen=True)
class DiskUsage:
    """What a sandbox has written to its own filesystem, and whether a limit holds it."""

    written: int
    """Bytes in the sandbox's writable layer."""
    enforced: bool
    """Whether the storage driver itself stops writes past the sandbox's disk limit."""


@dataclass(frozen=True)
class SandboxRestart:
    """A killed command's processes could not be ended from inside its sandbox, so the sandbox
    was restarted: every process in it ended, its files kept."""

    pids_limit: int | None
    """The process limit the sandbox had reached, when that was the reason."""


@dataclass(frozen=True)
class ExecResult:
    """How a command ended. `exit_code` is None only when it was killed for its timeout or
    interrupted from outside."""

    exit_code: int | None
    timed_out: bool
    duration: float
    restart: SandboxRestart | None = None
    """Set when ending the killed command took a restart of the sandbox."""
    interrupted: str = ""
    """Why the command was ended from outside before recording its exit status (its engine
    restarted and stopped the sandbox, which was started again); empty otherwise."""


@dataclass(frozen=True)
class SandboxInfo:
    """A sandbox found on a backend by its labels."""

    id: str
    name: str
    status: str
    labels: dict[str, str]


class Sandbox(ABC):
    """One running isolated environment (a container)."""

    id: str

    @abstractmethod
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
        """Run argv (as `user`, default the image's), streaming output to on_output.

        `run_id` (hex, chosen by the caller; a new one when None) names the command's run, so
        `reattach` can follow it later. At timeout or cancellation every process the command
        started is killed, however it detached. `stdin_path`, a host file, is the command's
        standard input; the command should read only the bytes it expects of it, since a
        connection lost meanwhile cuts it short. Without it the command's input is empty.
        """

    @abstractmethod
    async def reattach(
        self,
        run_id: str,
        *,
        timeout: float | None = None,
        on_output: OutputCallback | None = None,
        user: str | None = None,
    ) -> ExecResult:
        """Follow the command run `run_id` started by `exec`, from the first byte of its output
        to its end, and return how it ended; RunLost when that cannot be known. At timeout the
        run is killed like `exec` kills it (`user` is the user it runs as)."""

    @abstractmethod
    async def read_file(self, path: str) -> bytes:
        """Return a file's bytes; FileNotFoundError or IsADirectoryError when it is not a file."""

    @abstractmethod
    async def write_file(self, path: str, data: bytes, mode: int = 0o644) -> None:
        """Write a file, creating parent directories."""

    @abstractmethod
    async def copy_in(self, host_path: str, sandbox_dir: str) -> None:
        """Copy a host file into sandbox_dir, keeping its name; sandbox_dir is one of taskyard's
        own: created if missing, and left root-owned with mode 0755."""

    @abstractmethod
    async def copy_out(self, sandbox_path: str, host_path: str) -> None:
        """Copy one sandbox file to host_path."""

    @abstractmethod
    async def disk_usage(self) -> DiskUsage:
        """What the sandbox has written to its own filesystem."""

    @abstractmethod
    async def set_network(self, enabled: bool) -> None:
        """Connect or disconnect the sandbox from the outside network (loopback always works)."""

    @abstractmethod
    async def start(self) -> None:
        """Start the sandbox again after stop() (nothing when it runs); the commands it was
        running when it stopped are recorded as lost."""

    @abstractmethod
    async def stop(self) -> None:
        """Stop the sandbox, keeping its filesystem."""

    @abstractmethod
    async def remove(self) -> None:
        """Remove the sandbox and its filesystem."""


class SandboxBackend(ABC):
    """A place that creates sandboxes: a Docker engine, local or remote."""

    name: str

    @abstractmethod
    async def ping(self) -> None:
        """Raise BackendUnavailable with a clear message if the backend cannot be reached."""

    @abstractmethod
    async def create(self, spec: SandboxSpec) -> Sandbox:
        """Create and start a sandbox; ImageNotFound if spec.image is missing."""

    @abstractmethod
    async def attach(self, sandbox_id: str) -> Sandbox:
        """Return a handle on an existing sandbox (SandboxError if it is gone)."""

    @abstractmethod
    async def list(self, labels: dict[str, str] | None = None) -> list[SandboxInfo]:
        """List taskyard's sandboxes, filtered by labels."""

    @abstractmethod
    async def has_image(self, image: str) -> bool:
        """Whether the image exists on the backend."""

    @abstractmethod
    async def runtimes(self) -> tuple[str, ...]:
        """The container runtimes sandboxes can be created with, sorted."""

    @abstractmethod
    async def build_image(self, tag: str, on_output: OutputCallback | None = None) -> None:
        """Build taskyard's default sandbox image from the bundled Dockerfile."""
