"""What a client asks the engine to run: a task request and its limits."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Mode = Literal["code", "ask"]
MAX_ATTEMPTS = 4
"""The most attempts one request may run in parallel (best-of-N)."""


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
