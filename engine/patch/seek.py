"""Find where a chunk's lines sit in a file, with Codex's decreasing strictness."""

from __future__ import annotations

from collections.abc import Callable, Sequence

PUNCTUATION_TO_ASCII = str.maketrans(
    {
        **dict.fromkeys("\u2010\u2011\u2012\u2013\u2014\u2015\u2212", "-"),
        **dict.fromkeys("\u2018\u2019\u201a\u201b", "'"),
        **dict.fromkeys("\u201c\u201d\u201e\u201f", '"'),
        **dict.fromkeys(
            "\u00a0\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u202f\u205f\u3000", " "
        ),
    }
)


def _exact(line: str) -> str:
    return line


def _without_trailing_whitespace(line: str) -> str:
    return line.rstrip()


def _trimmed(line: str) -> str:
    return line.strip()


def _ascii_punctuation(line: str) -> str:
    """Trim, then map typographic dashes, quotes and spaces to their ASCII forms."""
    return line.strip().translate(PUNCTUATION_TO_ASCII)


MATCH_LEVELS: tuple[Callable[[str], str], ...] = (
    _exact,
    _without_trailing_whitespace,
    _trimmed,
    _ascii_punctuation,
)


def seek_sequence(
    lines: Sequence[str], pattern: Sequence[str], start: int, *, at_end_of_file: bool
) -> int | None:
    """Return the index at or after `start` where `pattern` occurs in `lines`, or None.

    Each strictness level is tried over every candidate position before the next, looser
    level. With `at_end_of_file`, the only candidate is the position that ends at the last
    line. An empty pattern matches at `start`.
    """
    if not pattern:
        return start
    last_start = len(lines) - len(pattern)
    if last_start < 0:
        return None
    first_start = last_start if at_end_of_file else start
    for normalise in MATCH_LEVELS:
        wanted = [normalise(line) for line in pattern]
        for index in range(first_start, last_start + 1):
            if _matches_at(lines, index, wanted, normalise):
                return index
    return None


def _matches_at(
    lines: Sequence[str], index: int, wanted: list[str], normalise: Callable[[str], str]
) -> bool:
    return all(
        normalise(lines[index + offset]) == expected for offset, expected in enumerate(wanted)
    )
