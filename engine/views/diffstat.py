"""What clients hold of a diff's size: per-file added and removed line counts, read from a
unified git diff."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FileStat:
    """Lines added and removed in one file of a diff."""

    path: str
    added: int
    removed: int
    binary: bool


def unquote_path(path: str) -> str:
    """Undo git's C-style quoting of unusual paths ("a\\303\\251.txt")."""
    if not (path.startswith('"') and path.endswith('"')):
        return path
    escapes = {
        "n": b"\n",
        "t": b"\t",
        '"': b'"',
        "\\": b"\\",
        "a": b"\a",
        "b": b"\b",
        "f": b"\f",
        "v": b"\v",
        "r": b"\r",
    }
    raw, body, index = bytearray(), path[1:-1], 0
    while index < len(body):
        char = body[index]
        if char != "\\":
            raw += char.encode()
            index += 1
        elif body[index + 1 : index + 4].isdigit():
            raw.append(int(body[index + 1 : index + 4], 8))
            index += 4
        else:
            raw += escapes.get(body[index + 1], body[index + 1].encode())
            index += 2
    return raw.decode("utf-8", errors="replace")


def _header_path(line: str) -> str:
    """The new path from a `diff --git a/X b/Y` line."""
    rest = line.removeprefix("diff --git ")
    if rest.endswith('"'):
        return unquote_path(rest[rest.rindex(' "') + 1 :]).removeprefix("b/")
    half = (len(rest) - 1) // 2
    if rest[half] == " " and rest[2:half] == rest[half + 3 :]:
        return rest[half + 3 :]
    return rest.split(" b/", 1)[-1]


def diff_stat(diff_text: str) -> list[FileStat]:
    """Per-file added/removed line counts of a unified git diff, in diff order."""
    stats: list[FileStat] = []
    path, added, removed, binary, in_hunk = "", 0, 0, False, False
    for line in diff_text.splitlines():
        if line.startswith("diff --git "):
            if path:
                stats.append(FileStat(path, added, removed, binary))
            path, added, removed, binary, in_hunk = _header_path(line), 0, 0, False, False
        elif in_hunk and line[:1] in ("+", "-"):
            added += line.startswith("+")
            removed += line.startswith("-")
        elif line.startswith("@@"):
            in_hunk = True
        elif line.startswith("rename to "):
            path = unquote_path(line.removeprefix("rename to "))
        elif line.startswith(("+++ b/", '+++ "b/')):
            path = unquote_path(line.removeprefix("+++ ").rstrip("\t")).removeprefix("b/")
        elif line.startswith(("Binary files ", "GIT binary patch")):
            binary = True
    if path:
        stats.append(FileStat(path, added, removed, binary))
    return stats
