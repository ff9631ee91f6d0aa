"""Parse the `*** Begin Patch` format of OpenAI's Codex `apply_patch` tool into typed operations.

Grammar (Codex's, with its leniency: whitespace around the begin/end markers and the file
headers is ignored, blank lines between chunks are skipped, and a patch wrapped in a
`<<EOF` ... `EOF` heredoc is unwrapped)::

    patch   := "*** Begin Patch" op+ "*** End Patch"
    op      := "*** Add File: " path ("+" line)*
             | "*** Delete File: " path
             | "*** Update File: " path ["*** Move to: " path] chunk+
    chunk   := ("@@" | "@@ " context) (" " line | "-" line | "+" line)+ ["*** End of File"]
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from engine.patch.errors import PatchParseError

BEGIN_PATCH_MARKER = "*** Begin Patch"
END_PATCH_MARKER = "*** End Patch"
ADD_FILE_MARKER = "*** Add File: "
DELETE_FILE_MARKER = "*** Delete File: "
UPDATE_FILE_MARKER = "*** Update File: "
MOVE_TO_MARKER = "*** Move to: "
END_OF_FILE_MARKER = "*** End of File"
CONTEXT_MARKER = "@@ "
BARE_CONTEXT_MARKER = "@@"
HEREDOC_OPENERS = ("<<EOF", "<<'EOF'", '<<"EOF"')
FIRST_HUNK_LINE_NUMBER = 2
NO_CHUNK_LINES = "Update hunk does not contain any lines"


@dataclass(frozen=True)
class AddFile:
    """Create (or overwrite) `path` with `contents`."""

    path: str
    contents: str


@dataclass(frozen=True)
class DeleteFile:
    """Remove the file at `path`."""

    path: str


@dataclass(frozen=True)
class UpdateChunk:
    """One `@@` section: replace `old_lines` with `new_lines`, after `change_context` if set."""

    change_context: str | None
    old_lines: tuple[str, ...]
    new_lines: tuple[str, ...]
    is_end_of_file: bool


@dataclass(frozen=True)
class UpdateFile:
    """Edit `path` chunk by chunk, then move it to `move_path` if set."""

    path: str
    move_path: str | None
    chunks: tuple[UpdateChunk, ...]


PatchOp = AddFile | DeleteFile | UpdateFile


def parse_patch(text: str) -> tuple[PatchOp, ...]:
    """Parse patch text into its operations, in order; raise PatchParseError if malformed."""
    body = _patch_body(_split_lines(text.strip()))
    ops: list[PatchOp] = []
    line_number = FIRST_HUNK_LINE_NUMBER
    while body:
        op, consumed = _parse_op(body, line_number)
        ops.append(op)
        body = body[consumed:]
        line_number += consumed
    return tuple(ops)


def _split_lines(text: str) -> list[str]:
    """Split on LF, dropping one CR before each LF, as Rust's `str::lines` does."""
    if not text:
        return []
    return [line.removesuffix("\r") for line in text.split("\n")]


def _patch_body(lines: list[str]) -> list[str]:
    """Return the lines between the begin and end markers, unwrapping a heredoc if present."""
    try:
        return _strict_patch_body(lines)
    except PatchParseError:
        if not _is_heredoc(lines):
            raise
    return _strict_patch_body(lines[1:-1])


def _is_heredoc(lines: list[str]) -> bool:
    """Whether the lines are a patch wrapped in `<<EOF` ... `EOF`."""
    return len(lines) >= 4 and lines[0] in HEREDOC_OPENERS and lines[-1].endswith("EOF")


def _strict_patch_body(lines: list[str]) -> list[str]:
    """Check the begin and end markers (ignoring surrounding whitespace); return the body."""
    if lines and lines[0].strip() != BEGIN_PATCH_MARKER:
        raise _invalid_patch(f"The first line of the patch must be '{BEGIN_PATCH_MARKER}'")
    if len(lines) < 2 or lines[-1].strip() != END_PATCH_MARKER:
        raise _invalid_patch(f"The last line of the patch must be '{END_PATCH_MARKER}'")
    return lines[1:-1]


def _parse_op(lines: Sequence[str], line_number: int) -> tuple[PatchOp, int]:
    """Parse the operation at the start of `lines`; return it and the number of lines used."""
    header = lines[0].strip()
    if header.startswith(ADD_FILE_MARKER):
        return _parse_add_file(header.removeprefix(ADD_FILE_MARKER), lines[1:])
    if header.startswith(DELETE_FILE_MARKER):
        return DeleteFile(header.removeprefix(DELETE_FILE_MARKER)), 1
    if header.startswith(UPDATE_FILE_MARKER):
        path = header.removeprefix(UPDATE_FILE_MARKER)
        return _parse_update_file(path, lines[1:], line_number)
    raise _invalid_hunk(
        line_number,
        f"'{header}' is not a valid hunk header. Valid hunk headers: "
        "'*** Add File: {path}', '*** Delete File: {path}', '*** Update File: {path}'",
    )


def _parse_add_file(path: str, lines: Sequence[str]) -> tuple[AddFile, int]:
    """Collect the `+` lines that follow an Add File header."""
    added: list[str] = []
    for line in lines:
        if not line.startswith("+"):
            break
        added.append(line[1:] + "\n")
    return AddFile(path, "".join(added)), 1 + len(added)


def _parse_update_file(path: str, lines: Sequence[str], line_number: int) -> tuple[UpdateFile, int]:
    """Parse the optional Move to line and the chunks that follow an Update File header."""
    consumed = 1
    move_path = None
    if lines and lines[0].startswith(MOVE_TO_MARKER):
        move_path = lines[0].removeprefix(MOVE_TO_MARKER)
        consumed += 1
    chunks: list[UpdateChunk] = []
    while consumed - 1 < len(lines):
        line = lines[consumed - 1]
        if not line.strip():
            consumed += 1
            continue
        if line.startswith("*"):
            break
        remaining = lines[consumed - 1 :]
        chunk, used = _parse_chunk(remaining, line_number + consumed, is_first=not chunks)
        chunks.append(chunk)
        consumed += used
    if not chunks:
        raise _invalid_hunk(line_number, f"Update file hunk for path '{path}' is empty")
    return UpdateFile(path, move_path, tuple(chunks)), consumed


def _parse_chunk(
    lines: Sequence[str], line_number: int, *, is_first: bool
) -> tuple[UpdateChunk, int]:
    """Parse one chunk; only the first chunk of a file may omit its `@@` header."""
    context, start = _chunk_header(lines[0], line_number, is_first=is_first)
    if start >= len(lines):
        raise _invalid_hunk(line_number + 1, NO_CHUNK_LINES)
    old_lines: list[str] = []
    new_lines: list[str] = []
    parsed = 0
    is_end_of_file = False
    for line in lines[start:]:
        if line == END_OF_FILE_MARKER:
            if parsed == 0:
                raise _invalid_hunk(line_number + 1, NO_CHUNK_LINES)
            is_end_of_file = True
            parsed += 1
            break
        if not _add_diff_line(line, old_lines, new_lines):
            if parsed == 0:
                raise _invalid_hunk(line_number + 1, _unexpected_line_message(line))
            break
        parsed += 1
    chunk = UpdateChunk(context, tuple(old_lines), tuple(new_lines), is_end_of_file)
    return chunk, start + parsed


def _chunk_header(line: str, line_number: int, *, is_first: bool) -> tuple[str | None, int]:
    """Return the chunk's change context and how many header lines it has (0 or 1)."""
    if line == BARE_CONTEXT_MARKER:
        return None, 1
    if line.startswith(CONTEXT_MARKER):
        return line.removeprefix(CONTEXT_MARKER), 1
    if is_first:
        return None, 0
    raise _invalid_hunk(
        line_number, f"Expected update hunk to start with a @@ context marker, got: '{line}'"
    )


def _add_diff_line(line: str, old_lines: list[str], new_lines: list[str]) -> bool:
    """Sort one diff line into old/new lines; return False if it is not a diff line."""
    marker, content = line[:1], line[1:]
    if marker in ("", " "):
        old_lines.append(content)
        new_lines.append(content)
    elif marker == "-":
        old_lines.append(content)
    elif marker == "+":
        new_lines.append(content)
    else:
        return False
    return True


def _unexpected_line_message(line: str) -> str:
    return (
        f"Unexpected line found in update hunk: '{line}'. Every line should start with "
        "' ' (context line), '+' (added line), or '-' (removed line)"
    )


def _invalid_patch(message: str) -> PatchParseError:
    return PatchParseError(f"invalid patch: {message}")


def _invalid_hunk(line_number: int, message: str) -> PatchParseError:
    return PatchParseError(f"invalid hunk at line {line_number}, {message}")
