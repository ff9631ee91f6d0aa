"""The header of one file in a git diff: its extended lines, its paths and its modes."""

from __future__ import annotations

import re
from collections.abc import Sequence

from engine.views.diff import mentions
from engine.views.diffstat import unquote_path

GIT_HEADER = "diff --git "
EXTENDED_HEADERS = (
    "old mode ",
    "new mode ",
    "deleted file mode ",
    "new file mode ",
    "similarity index ",
    "dissimilarity index ",
    "rename from ",
    "rename to ",
    "copy from ",
    "copy to ",
    "index ",
    "--- ",
    "+++ ",
    "Binary files ",
)
"""Lines that may follow `diff --git` before the hunks or the binary patch."""


def header_fields(header: Sequence[str]) -> dict[str, str]:
    """Extended header values by their prefix ("rename from", "---", ...); the index line's
    mode as "index mode"."""
    fields: dict[str, str] = {}
    for line in header[1:]:
        for prefix in EXTENDED_HEADERS:
            if line.startswith(prefix):
                fields[prefix.strip()] = line[len(prefix) :]
        if line.startswith("index ") and " " in line[len("index ") :]:
            fields["index mode"] = line.rsplit(" ", 1)[1]
    return fields


def old_and_new(
    header: Sequence[str], fields: dict[str, str], names: list[str]
) -> tuple[str | None, str | None]:
    """(old path, new path) from `---`/`+++`, rename/copy lines, else the `diff --git` line's
    `names`; None for the side of a new or deleted file."""
    old = _side_path(fields["---"]) if "---" in fields else None
    new = _side_path(fields["+++"]) if "+++" in fields else None
    old = old or _first(fields, "rename from", "copy from")
    new = new or _first(fields, "rename to", "copy to")
    fallback_old, fallback_new = (names[0], names[-1]) if names else ("", "")
    if old is None and "---" not in fields and not mentions(header, "new file mode "):
        old = fallback_old or None
    if new is None and "+++" not in fields and not mentions(header, "deleted file mode "):
        new = fallback_new or None
    return old, new


def _first(fields: dict[str, str], *keys: str) -> str | None:
    for key in keys:
        if key in fields:
            return unquote_path(fields[key])
    return None


def _side_path(value: str) -> str | None:
    """The path of a `---`/`+++` line without its a/ or b/ prefix; None for /dev/null."""
    name = unquote_path(value.removesuffix("\t"))
    return None if name == "/dev/null" else _strip_prefix(name)


def _strip_prefix(name: str) -> str:
    return name.split("/", 1)[1] if "/" in name else name


def header_names(line: str) -> list[str]:
    """Both paths of a `diff --git a/X b/Y` line, quoted or not."""
    rest = line[len(GIT_HEADER) :]
    if rest.startswith('"') or rest.endswith('"'):
        tokens = re.findall(r'"(?:[^"\\]|\\.)*"|[^ ]+', rest)
        if len(tokens) == 2:
            return [_strip_prefix(unquote_path(token)) for token in tokens]
    half = (len(rest) - 1) // 2
    if rest[half : half + 1] == " " and rest[2:half] == rest[half + 3 :]:
        return [rest[2:half], rest[half + 3 :]]
    old, separator, new = rest.partition(" b/")
    return [_strip_prefix(old), new] if separator else [_strip_prefix(rest)]
