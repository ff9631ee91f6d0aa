"""What clients read of the citations in an agent's answer: `【F:path†L10-L20】` for files,
`【chunk_id†L3-L7】` for output.

Line numbers are 1-based and inclusive; `†L10` alone means one line and `†L10-20` is accepted
for `†L10-L20`. Chunk ids are the ids the engine gives each shell result.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from engine.run.layout import REPO_DIR

_CITATION = re.compile(
    r"【\s*(?:F:\s*(?P<path>[^†】]+?)|(?P<chunk>[A-Za-z0-9_.-]+))\s*"
    r"†\s*L(?P<start>\d+)(?:\s*-\s*L?(?P<end>\d+))?\s*】"
)


@dataclass(frozen=True)
class Citation:
    """One citation as written in the text."""

    kind: Literal["file", "chunk"]
    target: str
    """Repo-relative file path, or chunk id."""
    start: int
    end: int
    raw: str
    """The citation exactly as written."""
    offset: int
    """Character offset of `raw` in the text."""


def normalise_path(path: str, repo_dir: str = REPO_DIR) -> str:
    """Make a cited path repo-relative: drop `./` and the sandbox's repo directory prefix."""
    path = path.strip()
    prefix = repo_dir.rstrip("/") + "/"
    if path.startswith(prefix):
        path = path[len(prefix) :]
    while path.startswith("./"):
        path = path[2:]
    return path


def parse_citations(text: str, repo_dir: str = REPO_DIR) -> list[Citation]:
    """Every citation in `text`, in order of appearance."""
    citations = []
    for match in _CITATION.finditer(text):
        start = int(match["start"])
        end = int(match["end"]) if match["end"] else start
        if match["path"] is not None:
            kind: Literal["file", "chunk"] = "file"
            target = normalise_path(match["path"], repo_dir)
        else:
            kind, target = "chunk", match["chunk"]
        citations.append(Citation(kind, target, start, end, match[0], match.start()))
    return citations
