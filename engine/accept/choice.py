"""Choosing part of a result: whole files and single hunks, and what is left out."""

from __future__ import annotations

from collections.abc import Sequence

from engine.diff.patchset import render_patch
from engine.errors import EngineError
from engine.views.accept import Choice
from engine.views.diff import FileDiff

MAX_QUOTED_CHARS = 20_000


def file_list(files: Sequence[FileDiff]) -> str:
    return ", ".join(file.path for file in files) or "none"


def _find(files: Sequence[FileDiff], path: str, task_id: str) -> FileDiff:
    for file in files:
        if path in (file.old_path, file.new_path):
            return file
    raise EngineError(f"task {task_id} did not change {path!r}; its files: {file_list(files)}")


def _hunk_numbers(file: FileDiff, numbers: set[int]) -> set[int]:
    if file.whole_only:
        raise EngineError(
            f"{file.path} is a {file.kind} file and is taken whole: choose it by its path"
        )
    wrong = sorted(number for number in numbers if not 1 <= number <= len(file.hunks))
    if wrong:
        raise EngineError(f"{file.path} has {len(file.hunks)} hunk(s): there is no hunk {wrong[0]}")
    return numbers


def choose(files: Sequence[FileDiff], choice: Choice, task_id: str) -> list[FileDiff]:
    """The files and hunks `choice` names, in diff order; EngineError for an unknown name."""
    if choice.everything:
        return list(files)
    whole = {id(_find(files, path, task_id)) for path in choice.paths}
    picked: dict[int, set[int]] = {}
    for path, number in choice.hunks:
        picked.setdefault(id(_find(files, path, task_id)), set()).add(number)
    chosen: list[FileDiff] = []
    for file in files:
        if id(file) in whole:
            chosen.append(file)
        elif id(file) in picked:
            chosen.append(file.with_hunks(_hunk_numbers(file, picked[id(file)])))
    return chosen


def covers_all(files: Sequence[FileDiff], chosen: Sequence[FileDiff]) -> bool:
    """Whether `chosen` is every file of `files` with every hunk."""
    return [(file.path, len(file.hunks)) for file in files] == [
        (file.path, len(file.hunks)) for file in chosen
    ]


def rejected_prompt(rejected: Sequence[FileDiff]) -> str:
    """A follow-up asking the agent to rework the changes the person did not accept."""
    if not rejected:
        raise EngineError("every change is chosen: there is nothing to send back")
    patch = render_patch(rejected).encode("utf-8", "surrogateescape")
    quoted = patch.decode("utf-8", errors="replace")
    if len(quoted) > MAX_QUOTED_CHARS:
        quoted = quoted[:MAX_QUOTED_CHARS] + "\n[... the rest of these hunks is cut here]\n"
    files = ", ".join(file.path for file in rejected)
    return (
        f"I did not accept these changes to {files}. Rework them: keep what I accepted, "
        "redo or drop these hunks, and explain what you changed and why.\n\n"
        f"```diff\n{quoted}```\n"
    )
