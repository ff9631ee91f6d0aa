"""What clients hold of what they ask the engine to run: a task request and its limits."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

Mode = Literal["code", "ask"]
MAX_ATTEMPTS = 4
"""The most attempts one request may run in parallel (best-of-N)."""
_URL_PATTERN = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://|^[^/:\s]+@[^/:\s]+:")


def is_remote(repo: str) -> bool:
    """True when `repo` is a URL (scheme://... or user@host:path), not a local path."""
    return bool(_URL_PATTERN.match(repo))


@dataclass(frozen=True)
class TaskRequest:
    """What a person asks for: a prompt, a repository at a ref, an environment and a mode."""

    prompt: str
    repo: str = "."
    ref: str | None = None
    environment: str = "default"
    mode: Mode = "code"
    image: str | None = None
    host: str | None = None
    """The host the task must run on; any host with a free slot when None."""
    attempts: int = 1
    """How many attempts of the task run in parallel, each in its own sandbox (1 to 4)."""
    include_uncommitted: bool = False
    """Ship the local repository's uncommitted changes (untracked files that are not ignored
    too) as a commit on top of the ref; the task starts from that commit."""


UNCOMMITTED_SAMPLE = 3
"""How many paths of the uncommitted changes a client is told by name."""


@dataclass(frozen=True)
class UncommittedWork:
    """The changes a local repository's working tree has beyond HEAD: modified, staged,
    deleted and untracked (not ignored) paths."""

    count: int = 0
    sample: tuple[str, ...] = field(default_factory=tuple)
    """The first UNCOMMITTED_SAMPLE paths, as git names them."""

    def __bool__(self) -> bool:
        return self.count > 0

    def counted(self, what: str = "uncommitted ") -> str:
        """`2 uncommitted changes (calc.py, notes.txt)`, with `…` when there are more."""
        noun = "change" if self.count == 1 else "changes"
        more = ", …" if self.count > len(self.sample) else ""
        return f"{self.count} {what}{noun} ({', '.join(self.sample)}{more})"
