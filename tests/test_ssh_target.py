"""Parsing `[user@]host[:port]` SSH targets."""

from __future__ import annotations

from pathlib import Path

import pytest

from sandboxes.ssh import SshTarget, parse_ssh_target


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("build-box", SshTarget(host="build-box")),
        ("root@10.0.0.5", SshTarget(host="10.0.0.5", user="root")),
        ("deploy@box.example:2222", SshTarget(host="box.example", user="deploy", port=2222)),
        ("ssh://root@box:22", SshTarget(host="box", user="root", port=22)),
        ("[::1]:2200", SshTarget(host="::1", port=2200)),
        ("me@[fe80::1]", SshTarget(host="fe80::1", user="me")),
        ("  alias  ", SshTarget(host="alias")),
    ],
)
def test_good_targets_parse(text: str, expected: SshTarget) -> None:
    assert parse_ssh_target(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "SSH target is empty"),
        ("@host", "nothing before '@'"),
        ("root@", "has no host"),
        ("root@:22", "has no host"),
        ("root@host:", "invalid port ''"),
        ("root@host:ssh", "invalid port 'ssh'"),
        ("root@host:0", "invalid port '0'"),
        ("root@host:70000", "invalid port '70000'"),
        ("fe80::1:22", "write IPv6 addresses as [addr]:port"),
        ("[::1", "malformed [address]"),
        ("[::1]22", "malformed [address]"),
        ("root@my host", "invalid host 'my host'"),
        ("root@host/path", "invalid host 'host/path'"),
    ],
)
def test_bad_targets_say_what_is_wrong(text: str, message: str) -> None:
    with pytest.raises(ValueError) as caught:
        parse_ssh_target(text)
    assert message in str(caught.value)


def test_files_and_display() -> None:
    target = parse_ssh_target("root@[::1]:2200", identity_file=Path("/k"), known_hosts=Path("/kh"))
    assert (target.identity_file, target.known_hosts_path) == (Path("/k"), Path("/kh"))
    assert str(target) == "root@[::1]:2200"
    assert parse_ssh_target("box").known_hosts_path == Path("~/.ssh/known_hosts").expanduser()
