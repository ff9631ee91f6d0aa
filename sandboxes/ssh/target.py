"""Where an SSH Docker host is: `user@host[:port]` plus the files that authenticate it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

DEFAULT_KNOWN_HOSTS = Path("~/.ssh/known_hosts")
SCHEME = "ssh://"
FORMAT_HINT = "expected [user@]host[:port], e.g. root@build-box:2222 or an alias from ~/.ssh/config"


@dataclass(frozen=True)
class SshTarget:
    """An SSH destination; None fields come from ~/.ssh/config (or the config_files) then defaults.

    `host` may be an alias from the SSH config; asyncssh resolves HostName, Port, User and
    IdentityFile from it.
    """

    host: str
    user: str | None = None
    port: int | None = None
    identity_file: Path | None = None
    known_hosts: Path | None = None
    config_files: tuple[Path, ...] = ()

    @property
    def known_hosts_path(self) -> Path:
        """The known_hosts file that decides which host keys are trusted."""
        return (self.known_hosts or DEFAULT_KNOWN_HOSTS).expanduser()

    def __str__(self) -> str:
        user = f"{self.user}@" if self.user else ""
        host = f"[{self.host}]" if ":" in self.host else self.host
        port = f":{self.port}" if self.port else ""
        return f"{user}{host}{port}"


def parse_ssh_target(
    text: str,
    *,
    identity_file: Path | None = None,
    known_hosts: Path | None = None,
    config_files: tuple[Path, ...] = (),
) -> SshTarget:
    """Parse `[ssh://][user@]host[:port]` (IPv6 as `[addr]:port`); ValueError says what is wrong."""
    rest = text.strip().removeprefix(SCHEME).rstrip("/")
    if not rest:
        raise ValueError(f"SSH target is empty: {FORMAT_HINT}")
    user, at, rest = rest.rpartition("@")
    if at and not user:
        raise ValueError(f"SSH target {text!r} has nothing before '@': {FORMAT_HINT}")
    host, port = split_host_port(rest, text)
    return SshTarget(
        host=host,
        user=user or None,
        port=port,
        identity_file=identity_file,
        known_hosts=known_hosts,
        config_files=config_files,
    )


def split_host_port(text: str, original: str) -> tuple[str, int | None]:
    """Split `host`, `host:port`, `[v6]` or `[v6]:port`."""
    host, port_text = (
        split_bracketed(text, original) if text.startswith("[") else split_plain(text, original)
    )
    check_host(host, original)
    return host, None if port_text is None else parse_port(port_text, original)


def split_bracketed(text: str, original: str) -> tuple[str, str | None]:
    """`[addr]` or `[addr]:port` into the address and the port text."""
    host, bracket, after = text[1:].partition("]")
    if not bracket or (after and not after.startswith(":")):
        raise ValueError(f"SSH target {original!r} has a malformed [address]: {FORMAT_HINT}")
    return host, after[1:] if after else None


def split_plain(text: str, original: str) -> tuple[str, str | None]:
    """`host` or `host:port` into the host and the port text."""
    if text.count(":") > 1:
        raise ValueError(f"SSH target {original!r}: write IPv6 addresses as [addr]:port")
    host, colon, port_text = text.partition(":")
    return host, port_text if colon else None


def check_host(host: str, original: str) -> None:
    """ValueError unless host looks like a host name, alias or address."""
    if not host:
        raise ValueError(f"SSH target {original!r} has no host: {FORMAT_HINT}")
    if any(char.isspace() or char == "/" for char in host):
        raise ValueError(f"SSH target {original!r} has an invalid host {host!r}: {FORMAT_HINT}")


def parse_port(text: str, original: str) -> int:
    """A TCP port number 1-65535, or ValueError naming the target."""
    if not text.isdigit() or not 1 <= int(text) <= 65535:
        raise ValueError(
            f"SSH target {original!r} has an invalid port {text!r}: expected a number 1-65535"
        )
    return int(text)
