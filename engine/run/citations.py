"""Citations in an agent's answer checked against the files and stored outputs they point at;
parsed by `engine.views.citations`."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass

from engine.views.citations import Citation

LineCount = Callable[[str], Awaitable[int | None]]


@dataclass(frozen=True)
class VerifiedCitation(Citation):
    """A citation checked against the files and stored outputs it points at."""

    valid: bool
    reason: str
    """Why it is invalid, e.g. "no such file"; empty when valid."""

    def to_dict(self) -> dict[str, str | int | bool]:
        return {
            "kind": self.kind,
            "target": self.target,
            "start": self.start,
            "end": self.end,
            "valid": self.valid,
            "reason": self.reason,
        }


def _check_range(citation: Citation, line_count: int | None) -> str:
    """Why the citation's range is wrong, or "" when it is fine."""
    if line_count is None:
        return "no such file" if citation.kind == "file" else "unknown chunk"
    if citation.start < 1:
        return "line numbers start at 1"
    if citation.end < citation.start:
        return f"range L{citation.start}-L{citation.end} is reversed"
    if citation.end > line_count:
        return f"line {citation.end} past end ({line_count} lines)"
    return ""


async def verify_citations(
    citations: list[Citation], file_lines: LineCount, chunk_lines: LineCount
) -> list[VerifiedCitation]:
    """Check each citation's target exists and holds the cited lines.

    `file_lines(path)` and `chunk_lines(chunk_id)` return the line count, or None when the
    target does not exist. Each distinct target is looked up once, all concurrently.
    """
    keys = list(dict.fromkeys((citation.kind, citation.target) for citation in citations))
    lookups = [
        file_lines(target) if kind == "file" else chunk_lines(target) for kind, target in keys
    ]
    counts = dict(zip(keys, await asyncio.gather(*lookups), strict=True))
    verified = []
    for citation in citations:
        reason = _check_range(citation, counts[(citation.kind, citation.target)])
        verified.append(
            VerifiedCitation(**asdict(citation), valid=not reason, reason=reason),
        )
    return verified
