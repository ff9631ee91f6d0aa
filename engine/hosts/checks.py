"""What `taskyard hosts` reports: each host's state and load, and a step-by-step check of one."""

from __future__ import annotations

import asyncio

from engine.hosts.host import Host, HostError
from engine.views.hosts import HostCheck, HostStatus
from engine.views.task import TaskRecord, TaskStatus
from sandboxes.base import SandboxError

PROBE_SECONDS = 15.0
"""How long a host has to answer before it is reported down."""


async def probe(host: Host) -> None:
    """Reach the host (bounded in time); its state and error say how it went."""
    try:
        await asyncio.wait_for(host.connect(), PROBE_SECONDS)
    except HostError:
        pass
    except TimeoutError:
        host.mark_down(f"no answer within {PROBE_SECONDS:g} s")


def host_status(host: Host, active_tasks: list[TaskRecord]) -> HostStatus:
    """The host's state with the active tasks running on it or waiting for it."""
    active = [task for task in active_tasks if task.host == host.name]
    queued = sum(1 for task in active if task.status == TaskStatus.QUEUED.value)
    spec = host.spec
    return HostStatus(
        host.name,
        spec.shown_address,
        spec.origin,
        host.state,
        host.error,
        len(active) - queued,
        queued,
        spec.max_tasks,
    )


async def check_host(host: Host, image: str) -> list[HostCheck]:
    """Connection (SSH for remote hosts), the Docker engine, then the sandbox image."""
    link = "SSH" if host.spec.kind == "ssh" else "socket"
    try:
        backend = await asyncio.wait_for(host.connect(), PROBE_SECONDS)
    except (HostError, TimeoutError) as error:
        detail = str(error) or f"no answer within {PROBE_SECONDS:g} s"
        return [HostCheck(f"{link} and Docker", False, detail)]
    checks = [
        HostCheck(link, True, host.spec.shown_address),
        HostCheck("Docker", True, "the engine answers"),
    ]
    try:
        present = await backend.has_image(image)
    except SandboxError as error:
        return [*checks, HostCheck("sandbox image", False, str(error))]
    hint = f"{image} is missing: build it with `taskyard image build --host {host.name}`"
    return [*checks, HostCheck("sandbox image", present, image if present else hint)]


async def known_hosts_check(host: Host) -> HostCheck | None:
    """Whether an SSH host's known_hosts file trusts a key for it, read without connecting;
    None for a host reached through a local socket."""
    if host.spec.kind != "ssh":
        return None
    from sandboxes.ssh import SshError
    from sandboxes.ssh.connect import known_hosts_entry

    try:
        ok, detail = await known_hosts_entry(host.ssh_target())
    except (SshError, ValueError) as error:
        return HostCheck("known_hosts", False, str(error))
    return HostCheck("known_hosts", ok, detail)
