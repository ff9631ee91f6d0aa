"""A fake backend for fast engine tests: a sandbox is a host directory standing for `/`.

Container paths map under the sandbox root (`/workspace/repo` -> `ROOT/workspace/repo`) for file
operations and for the working directory of commands. Commands run as local subprocesses, so an
absolute path inside argv still means the host's path; tests use relative paths or the workdir.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import posixpath
import shutil
import signal
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from sandboxes.base import (
    MANAGED_LABEL,
    BackendUnavailable,
    DiskUsage,
    ExecResult,
    ImageNotFound,
    OutputCallback,
    RunLost,
    Sandbox,
    SandboxBackend,
    SandboxError,
    SandboxInfo,
    SandboxSpec,
)

READ_CHUNK_BYTES = 65536


@dataclass(frozen=True)
class FakeExec:
    """One exec call as the fake received it."""

    argv: list[str]
    workdir: str
    env: dict[str, str]
    user: str | None
    run_id: str | None = None
    stdin_path: str | None = None


class FakeSandbox(Sandbox):
    """A host directory standing for a container's filesystem root."""

    def __init__(self, root: Path, spec: SandboxSpec, name: str) -> None:
        self.id = uuid.uuid4().hex
        self.name = name
        self.root = root
        self.spec = spec
        self.labels = {**spec.labels, MANAGED_LABEL: "true"}
        self.status = "running"
        self.network_enabled = spec.network
        self.execs: list[FakeExec] = []
        self.host_path(spec.workdir).mkdir(parents=True, exist_ok=True)

    def host_path(self, path: str) -> Path:
        """The host path standing for an absolute sandbox path."""
        if not posixpath.isabs(path):
            raise SandboxError(f"sandbox paths must be absolute, got {path!r}")
        return self.root / posixpath.normpath(path).lstrip("/")

    @property
    def exec_calls(self) -> list[list[str]]:
        """The argv of every exec, in order."""
        return [call.argv for call in self.execs]

    def _require_running(self) -> None:
        if self.status != "running":
            raise SandboxError(f"sandbox {self.name} is {self.status}, not running")

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
        """Run argv as a local process group in the mapped workdir, stdin_path (a host file)
        as its input; kill the group at timeout.

        `user` and `run_id` are recorded, not used.
        """
        self._require_running()
        environment = {**self.spec.env, **(env or {})}
        workdir = workdir or self.spec.workdir
        call = FakeExec(list(argv), workdir, environment, user, run_id, stdin_path)
        self.execs.append(call)
        started = time.monotonic()
        process = await self._spawn(call, on_output)
        if isinstance(process, int):
            return ExecResult(
                exit_code=process, timed_out=False, duration=time.monotonic() - started
            )
        try:
            async with asyncio.timeout(timeout):
                await stream_output(process, on_output)
                exit_code = await process.wait()
        except TimeoutError:
            await kill_group(process)
            return ExecResult(exit_code=None, timed_out=True, duration=time.monotonic() - started)
        except BaseException:
            await asyncio.shield(kill_group(process))
            raise
        return ExecResult(exit_code=exit_code, timed_out=False, duration=time.monotonic() - started)

    async def _spawn(
        self, call: FakeExec, on_output: OutputCallback | None
    ) -> asyncio.subprocess.Process | int:
        """Start call as a new session, or report why it cannot start and return its exit code."""
        cwd = self.host_path(call.workdir)
        if not cwd.is_dir():
            return report(
                on_output, 126, f"chdir to cwd ({call.workdir!r}) failed: no such directory"
            )
        with contextlib.ExitStack() as files:
            stdin = (
                asyncio.subprocess.DEVNULL
                if call.stdin_path is None
                else files.enter_context(open(call.stdin_path, "rb"))
            )
            try:
                return await asyncio.create_subprocess_exec(
                    *call.argv,
                    cwd=cwd,
                    env={**os.environ, **call.env},
                    stdin=stdin,
                    stdout=asyncio.subprocess.PIPE,
                    stderr=asyncio.subprocess.STDOUT,
                    start_new_session=True,
                )
            except FileNotFoundError:
                return report(on_output, 127, f"sh: 1: {call.argv[0]}: not found")

    async def reattach(
        self,
        run_id: str,
        *,
        timeout: float | None = None,
        on_output: OutputCallback | None = None,
        user: str | None = None,
    ) -> ExecResult:
        """RunLost: the fake keeps no copy of a command's output to follow."""
        raise RunLost(f"run {run_id} cannot be followed on the fake backend")

    async def read_file(self, path: str) -> bytes:
        """Return a file's bytes; FileNotFoundError or IsADirectoryError when it is not a file."""
        return self.host_path(path).read_bytes()

    async def write_file(self, path: str, data: bytes, mode: int = 0o644) -> None:
        """Write a file, creating parent directories."""
        target = self.host_path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        target.chmod(mode)

    async def copy_in(self, host_path: str, sandbox_dir: str) -> None:
        """Copy a host file into sandbox_dir (created if missing), keeping its name."""
        directory = self.host_path(sandbox_dir)
        directory.mkdir(parents=True, exist_ok=True)
        shutil.copy(host_path, directory / Path(host_path).name)

    async def copy_out(self, sandbox_path: str, host_path: str) -> None:
        """Copy one sandbox file to host_path."""
        Path(host_path).parent.mkdir(parents=True, exist_ok=True)
        Path(host_path).write_bytes(await self.read_file(sandbox_path))

    async def disk_usage(self) -> DiskUsage:
        """The bytes of every file under the sandbox's root; never enforced."""
        files = await asyncio.to_thread(lambda: [p for p in self.root.rglob("*") if p.is_file()])
        return DiskUsage(written=sum(path.stat().st_size for path in files), enforced=False)

    async def set_network(self, enabled: bool) -> None:
        """Record whether the network is on."""
        self.network_enabled = enabled

    async def start(self) -> None:
        """Mark the sandbox running again."""
        if self.status == "removed":
            raise SandboxError(f"sandbox {self.name} was removed")
        self.status = "running"

    async def stop(self) -> None:
        """Mark the sandbox stopped; its files stay."""
        self.status = "exited"

    async def remove(self) -> None:
        """Delete the sandbox directory."""
        self.status = "removed"
        shutil.rmtree(self.root, ignore_errors=True)


class FakeBackend(SandboxBackend):
    """Creates FakeSandboxes under a host directory; knows a set of image names."""

    name = "fake"

    def __init__(
        self,
        base_dir: Path | None = None,
        *,
        images: set[str] | None = None,
        available: bool = True,
    ) -> None:
        self.base_dir = base_dir or Path(tempfile.mkdtemp(prefix="taskyard-fake-"))
        self.images = images if images is not None else {"debian:bookworm-slim"}
        self.available = available
        self.sandboxes: dict[str, FakeSandbox] = {}
        self.built_images: list[str] = []

    async def ping(self) -> None:
        """Raise BackendUnavailable when constructed with available=False."""
        if not self.available:
            raise BackendUnavailable("the fake backend is unavailable")

    async def create(self, spec: SandboxSpec) -> FakeSandbox:
        """Create a sandbox directory; ImageNotFound if spec.image is not in images."""
        await self.ping()
        if spec.image not in self.images:
            raise ImageNotFound(f"image {spec.image} not found on the fake backend")
        name = spec.name or f"fake-{len(self.sandboxes) + 1}"
        root = Path(tempfile.mkdtemp(prefix=f"{name}-", dir=self.base_dir))
        sandbox = FakeSandbox(root, spec, name)
        self.sandboxes[sandbox.id] = sandbox
        return sandbox

    async def attach(self, sandbox_id: str) -> FakeSandbox:
        """Return the sandbox with this id (SandboxError if it is unknown or removed)."""
        sandbox = self.sandboxes.get(sandbox_id)
        if sandbox is None or sandbox.status == "removed":
            raise SandboxError(f"sandbox {sandbox_id} not found on the fake backend")
        return sandbox

    async def list(self, labels: dict[str, str] | None = None) -> list[SandboxInfo]:
        """The sandboxes not removed whose labels include all of labels."""
        wanted = (labels or {}).items()
        return [
            SandboxInfo(id=box.id, name=box.name, status=box.status, labels=dict(box.labels))
            for box in self.sandboxes.values()
            if box.status != "removed" and wanted <= box.labels.items()
        ]

    async def has_image(self, image: str) -> bool:
        """Whether image is in the known set."""
        return image in self.images

    async def runtimes(self) -> tuple[str, ...]:
        """runc, like a stock Docker engine."""
        return ("runc",)

    async def build_image(self, tag: str, on_output: OutputCallback | None = None) -> None:
        """Add tag to the known images and report one log line."""
        self.images.add(tag)
        self.built_images.append(tag)
        if on_output is not None:
            on_output(f"Successfully tagged {tag}\n".encode())


def report(on_output: OutputCallback | None, exit_code: int, message: str) -> int:
    """Pass a one-line message to on_output and return exit_code."""
    if on_output is not None:
        on_output(f"{message}\n".encode())
    return exit_code


async def stream_output(
    process: asyncio.subprocess.Process, on_output: OutputCallback | None
) -> None:
    """Pass a process's merged output to on_output until it closes."""
    assert process.stdout is not None
    while chunk := await process.stdout.read(READ_CHUNK_BYTES):
        if on_output is not None:
            on_output(chunk)


async def kill_group(process: asyncio.subprocess.Process) -> None:
    """SIGKILL a process's whole group and reap it."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    await process.wait()
