"""Compute a file's new text from its old text and an Update File operation's chunks."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from engine.patch.errors import PatchError
from engine.patch.parser import UpdateChunk
from engine.patch.seek import seek_sequence

LF = "\n"
CRLF = "\r\n"


@dataclass(frozen=True)
class SourceLine:
    """One line of a file: its text and its line ending ("" when the file ends without one)."""

    text: str
    ending: str


@dataclass(frozen=True)
class Replacement:
    """Replace `old_length` lines starting at `start` with `new_lines`."""

    start: int
    old_length: int
    new_lines: tuple[str, ...]


def updated_text(original: str, chunks: Sequence[UpdateChunk], path: str) -> str:
    """Apply `chunks` to `original`; raise PatchError naming `path` if a chunk does not fit.

    Untouched lines keep their line endings; new lines take the file's first line ending
    (LF for a file without one), and the result always ends with a line ending.
    """
    source_lines = split_source_lines(original)
    texts = [line.text for line in source_lines]
    replacements = compute_replacements(texts, chunks, path)
    preferred = next((line.ending for line in source_lines if line.ending), LF)
    new_lines = apply_replacements(source_lines, replacements, preferred, path)
    return "".join(line.text + (line.ending or preferred) for line in new_lines)


def split_source_lines(text: str) -> list[SourceLine]:
    """Split text at LF into lines, recording whether each ended with LF or CRLF."""
    pieces = text.split(LF)
    lines = [_terminated_line(piece) for piece in pieces[:-1]]
    if pieces[-1]:
        lines.append(SourceLine(pieces[-1], ""))
    return lines


def _terminated_line(piece: str) -> SourceLine:
    if piece.endswith("\r"):
        return SourceLine(piece[:-1], CRLF)
    return SourceLine(piece, LF)


def compute_replacements(
    lines: Sequence[str], chunks: Sequence[UpdateChunk], path: str
) -> list[Replacement]:
    """Locate every chunk in order; return the replacements sorted by position."""
    replacements: list[Replacement] = []
    cursor = 0
    for chunk in chunks:
        if chunk.change_context is not None:
            cursor = _after_context(lines, chunk.change_context, cursor, path)
        if not chunk.old_lines:
            replacements.append(_pure_addition(lines, chunk))
            continue
        replacement = _locate_chunk(lines, chunk, cursor, path)
        replacements.append(replacement)
        cursor = replacement.start + replacement.old_length
    return sorted(replacements, key=lambda replacement: replacement.start)


def _after_context(lines: Sequence[str], context: str, cursor: int, path: str) -> int:
    index = seek_sequence(lines, [context], cursor, at_end_of_file=False)
    if index is None:
        raise PatchError(f"Failed to find context '{context}' in {path}")
    return index + 1


def _pure_addition(lines: Sequence[str], chunk: UpdateChunk) -> Replacement:
    """Chunks without old lines append at the end of the file, before a final blank line."""
    at = len(lines) - 1 if lines and lines[-1] == "" else len(lines)
    return Replacement(at, 0, chunk.new_lines)


def _locate_chunk(lines: Sequence[str], chunk: UpdateChunk, cursor: int, path: str) -> Replacement:
    """Find the chunk's old lines, retrying without a trailing empty line that stands for EOF."""
    old_lines, new_lines = chunk.old_lines, chunk.new_lines
    found = seek_sequence(lines, old_lines, cursor, at_end_of_file=chunk.is_end_of_file)
    if found is None and old_lines[-1] == "":
        old_lines = old_lines[:-1]
        if new_lines and new_lines[-1] == "":
            new_lines = new_lines[:-1]
        found = seek_sequence(lines, old_lines, cursor, at_end_of_file=chunk.is_end_of_file)
    if found is None:
        expected = LF.join(chunk.old_lines)
        raise PatchError(f"Failed to find expected lines in {path}:\n{expected}")
    return Replacement(found, len(old_lines), new_lines)


def apply_replacements(
    source_lines: Sequence[SourceLine],
    replacements: Sequence[Replacement],
    new_line_ending: str,
    path: str,
) -> list[SourceLine]:
    """Splice sorted, non-overlapping replacements into the source lines."""
    result: list[SourceLine] = []
    position = 0
    for replacement in replacements:
        if replacement.start < position:
            raise PatchError(f"Chunks overlap in {path}; each chunk must follow the previous one")
        result.extend(source_lines[position : replacement.start])
        result.extend(SourceLine(text, new_line_ending) for text in replacement.new_lines)
        position = replacement.start + replacement.old_length
    result.extend(source_lines[position:])
    return result
