"""The header of a result bundle, read on the host and checked before git fetches from it.

The sandbox makes the bundle with whatever `git` it has, so nothing in it is taken on trust:
it must name exactly the task's branch, at a full sha, and need no commit but the task's base
or one of its ancestors (the caller checks that against the repository).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

SIGNATURES = (b"# v2 git bundle\n", b"# v3 git bundle\n")
ALLOWED_CAPABILITIES = frozenset({"object-format=sha1"})
MAX_HEADER_BYTES = 1 << 20
SHA = re.compile(r"^[0-9a-f]{40}$")


class BundleRefused(Exception):
    """The bundle is not the one a task's result must be; the message says why."""


@dataclass(frozen=True)
class BundleHeader:
    """What a bundle says it holds: the commits it needs, and its refs as (sha, name)."""

    prerequisites: tuple[str, ...]
    refs: tuple[tuple[str, str], ...]


def read_header(bundle: Path) -> BundleHeader:
    """The header of `bundle`; BundleRefused when it is not a plain sha1 git bundle."""
    with open(bundle, "rb") as handle:
        head = handle.read(MAX_HEADER_BYTES)
    signature, _, rest = head.partition(b"\n")
    if signature + b"\n" not in SIGNATURES:
        raise BundleRefused("it is not a git bundle")
    header, blank, _pack = rest.partition(b"\n\n")
    if not blank and not rest.startswith(b"\n"):
        raise BundleRefused("its header has no end")
    lines = [] if rest.startswith(b"\n") else header.decode("ascii", "replace").split("\n")
    return _parse(lines)


def _parse(lines: list[str]) -> BundleHeader:
    prerequisites: list[str] = []
    refs: list[tuple[str, str]] = []
    for line in lines:
        if line.startswith("@"):
            if line[1:] not in ALLOWED_CAPABILITIES:
                raise BundleRefused(f"it asks for the capability {line[1:]!r}")
        elif line.startswith("-"):
            prerequisites.append(_sha(line[1:].split(" ", 1)[0]))
        else:
            sha, _, name = line.partition(" ")
            refs.append((_sha(sha), name))
    return BundleHeader(tuple(prerequisites), tuple(refs))


def _sha(text: str) -> str:
    if not SHA.match(text):
        raise BundleRefused(f"its header names {text[:50]!r}, which is not a full sha")
    return text


def branch_head(header: BundleHeader, branch_ref: str) -> str:
    """The sha of `branch_ref`, the one ref the bundle may hold; BundleRefused otherwise."""
    names = [name for _sha, name in header.refs]
    if names != [branch_ref]:
        shown = ", ".join(repr(name[:100]) for name in names) or "none"
        raise BundleRefused(f"it must hold only the ref {branch_ref}, and holds {shown}")
    return header.refs[0][0]
