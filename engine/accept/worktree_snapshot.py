"""The exact state of some working tree paths, to put back if writing them fails midway."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class _Entry:
    path: Path
    link: str | None = None
    data: bytes | None = None
    mode: int = 0


@dataclass(frozen=True)
class WorktreeSnapshot:
    """Files and symlinks as they were, and the directories that did not exist yet."""

    entries: tuple[_Entry, ...]
    missing_dirs: tuple[Path, ...]

    @classmethod
    def take(cls, top: Path, paths: Sequence[str]) -> WorktreeSnapshot:
        entries = tuple(_read(top / path) for path in paths)
        missing = {
            parent
            for path in paths
            for parent in (top / path).parents
            if top in parent.parents and not parent.exists()
        }
        return cls(entries, tuple(sorted(missing, key=lambda d: len(d.parts), reverse=True)))

    def restore(self) -> None:
        """Put every path back as it was; remove directories made since, when empty."""
        for entry in self.entries:
            if os.path.lexists(entry.path) and not entry.path.is_dir():
                entry.path.unlink()
            if entry.link is not None:
                entry.path.symlink_to(entry.link)
            elif entry.data is not None:
                entry.path.write_bytes(entry.data)
                entry.path.chmod(entry.mode)
        for directory in self.missing_dirs:
            if directory.is_dir() and not any(directory.iterdir()):
                directory.rmdir()


def _read(path: Path) -> _Entry:
    if path.is_symlink():
        return _Entry(path, link=os.readlink(path))
    if path.is_file():
        return _Entry(path, data=path.read_bytes(), mode=path.stat().st_mode & 0o7777)
    return _Entry(path)
