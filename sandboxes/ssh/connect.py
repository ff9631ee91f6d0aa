"""Opening one verified SSH connection to a target, with every failure as a clear SshError."""

from __future__ import annotations

import asyncio
import shlex
from dataclasses import dataclass
from pathlib import Path

import asyncssh

from sandboxes.ssh.errors import HostKeyError, SshAuthError, SshError, SshUnreachable
from sandboxes.ssh.target import SshTarget

DEFAULT_SSH_PORT = 22


@dataclass(frozen=True)
class ConnectSettings:
    """How long to wait for the handshake and how to notice a dead peer."""

    connect_timeout: float = 15.0
    keepalive_interval: float = 15.0
    """Seconds between keepalive requests on an idle connection."""
    keepalive_count_max: int = 3
    """Unanswered keepalives before the connection counts as dropped."""


async def open_ssh_connection(
    target: SshTarget, settings: ConnectSettings
) -> asyncssh.SSHClientConnection:
    """Connect and authenticate; HostKeyError, SshAuthError, SshUnreachable or SshError."""
    options = await client_options(target, settings)
    where = f"{options.host}:{options.port}"
    try:
        return await asyncssh.connect(target.host, target.port or (), options=options)
    except asyncssh.HostKeyNotVerifiable as error:
        raise await host_key_error(target, options) from error
    except asyncssh.PermissionDenied as error:
        raise SshAuthError(
            f"SSH to {options.username}@{where} was refused ({error.reason}): add your public key "
            "to the remote ~/.ssh/authorized_keys, or set identity_file for this host"
        ) from error
    except asyncssh.Error as error:
        raise SshError(f"SSH to {where} failed: {error}") from error
    except (OSError, TimeoutError) as error:
        raise SshUnreachable(
            f"cannot reach {where} over SSH ({error or 'timed out'}): check that the host is "
            "up and its sshd listens on that port"
        ) from error


async def client_options(
    target: SshTarget, settings: ConnectSettings
) -> asyncssh.SSHClientConnectionOptions:
    """asyncssh options for target: its SSH config, keys and known_hosts, no agent forwarding."""
    if target.identity_file is not None and not target.identity_file.expanduser().is_file():
        raise SshError(f"identity file {target.identity_file} for {target} does not exist")
    try:
        return await asyncio.to_thread(
            asyncssh.SSHClientConnectionOptions,
            host=target.host,
            port=target.port or (),
            username=target.user or (),
            config=[str(path) for path in target.config_files] or (),
            client_keys=identity_files(target),
            known_hosts=trusted_hosts(target.known_hosts_path),
            agent_forwarding=False,
            connect_timeout=settings.connect_timeout,
            keepalive_interval=settings.keepalive_interval,
            keepalive_count_max=settings.keepalive_count_max,
        )
    except (asyncssh.Error, asyncssh.KeyImportError, OSError, ValueError) as error:
        raise SshError(f"cannot prepare SSH to {target}: {error}") from error


def identity_files(target: SshTarget) -> list[str] | tuple[()]:
    """The explicit identity file, or () for asyncssh's defaults (config, agent, ~/.ssh/id_*)."""
    return [str(target.identity_file.expanduser())] if target.identity_file else ()


def trusted_hosts(path: Path) -> asyncssh.SSHKnownHosts:
    """The known_hosts entries at path; none (so every key is refused) when it does not exist."""
    if not path.is_file():
        return asyncssh.import_known_hosts("")
    return asyncssh.read_known_hosts(str(path))


async def host_key_error(
    target: SshTarget, options: asyncssh.SSHClientConnectionOptions
) -> HostKeyError:
    """A HostKeyError naming the offered key's fingerprint and the commands to trust it."""
    host, port = options.host, options.port
    fingerprint = await offered_fingerprint(target)
    known_hosts = target.known_hosts_path
    name = known_hosts_name(host, port)
    scan = keyscan_command(host, port, known_hosts)
    if has_trusted_keys(known_hosts, options.host_key_alias or host, port):
        forget = f"ssh-keygen -R {shlex.quote(name)} -f {shlex.quote(str(known_hosts))}"
        message = (
            f"the SSH host key of {name} has CHANGED (now {fingerprint}) and {known_hosts} "
            "trusts a different one: the host was reinstalled, or someone is intercepting the "
            f"connection. If the change is expected, run: {forget} && {scan}"
        )
        return HostKeyError(message, fingerprint=fingerprint, changed=True)
    message = (
        f"the SSH host key of {name} ({fingerprint}) is not in {known_hosts}. If that "
        f"fingerprint is the host's, trust it: {scan}"
    )
    return HostKeyError(message, fingerprint=fingerprint, changed=False)


def known_hosts_name(host: str, port: int) -> str:
    """How known_hosts names host:port: the host alone on port 22, else `[host]:port`."""
    return host if port == DEFAULT_SSH_PORT else f"[{host}]:{port}"


def keyscan_command(host: str, port: int, known_hosts: Path) -> str:
    """The command that adds the keys host:port offers to known_hosts."""
    return f"ssh-keyscan -p {port} {shlex.quote(host)} >> {shlex.quote(str(known_hosts))}"


async def known_hosts_entry(target: SshTarget) -> tuple[bool, str]:
    """Whether the target's known_hosts file holds a key for it (its SSH config's HostName and
    Port applied), without connecting; with a line that says so, or what to run. SshError when
    its options cannot be prepared."""
    options = await client_options(target, ConnectSettings())
    host, port = options.host, options.port
    known_hosts = target.known_hosts_path
    name = known_hosts_name(host, port)
    if has_trusted_keys(known_hosts, options.host_key_alias or host, port):
        return True, f"{known_hosts} has a key for {name}"
    return False, (
        f"{known_hosts} has no key for {name}: once you have checked its fingerprint, "
        f"trust it: {keyscan_command(host, port, known_hosts)}"
    )


def has_trusted_keys(known_hosts: Path, host: str, port: int) -> bool:
    """Whether known_hosts holds any key for host:port."""
    matched_port = None if port == DEFAULT_SSH_PORT else port
    keys = asyncssh.match_known_hosts(trusted_hosts(known_hosts), host, host, matched_port)[0]
    return bool(keys)


async def offered_fingerprint(target: SshTarget) -> str:
    """`SHA256:...` of the host key the server offers (or why it could not be read)."""
    try:
        key = await asyncssh.get_server_host_key(
            target.host,
            target.port or (),
            config=[str(path) for path in target.config_files] or (),
        )
    except (asyncssh.Error, OSError, TimeoutError) as error:
        return f"fingerprint unavailable: {error}"
    if key is None:
        return "no host key offered"
    return f"{key.get_algorithm()} key {key.get_fingerprint('sha256')}"
