"""Apply a Codex `*** Begin Patch` patch to a file system rooted at the patch root."""

from __future__ import annotations

import asyncio
import posixpath
from dataclasses import dataclass
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Protocol

from engine.patch.errors import PatchError
from engine.patch.parser import AddFile, DeleteFile, PatchOp, UpdateFile, parse_patch
from engine.patch.update import updated_text

SUMMARY_HEADER = "Success. Updated the following files:"


class PatchFS(Protocol):
    """The file operations a patch needs; paths are relative to the patch root."""

    async def read_text(self, path: str) -> str:
        """Return the file's text; raise FileNotFoundError or IsADirectoryError."""
        ...

    async def write_text(self, path: str, text: str) -> None:
        """Write the file, creating parent directories and overwriting what is there."""
        ...

    async def remove(self, path: str) -> None:
        """Remove a file; raise FileNotFoundError, or IsADirectoryError for a directory."""
        ...


@dataclass(frozen=True)
class PatchResult:
    """The paths a successful patch added, modified (moves list the destination) and deleted."""

    added: tuple[str, ...] = ()
    modified: tuple[str, ...] = ()
    deleted: tuple[str, ...] = ()

    @property
    def summary(self) -> str:
        """Codex's success message: a header, then one `A|M|D path` line per file."""
        lines = [SUMMARY_HEADER]
        lines += [f"A {path}" for path in self.added]
        lines += [f"M {path}" for path in self.modified]
        lines += [f"D {path}" for path in self.deleted]
        return "\n".join(lines)


async def apply_patch(text: str, fs: PatchFS) -> PatchResult:
    """Parse and apply a patch, operation by operation; raise PatchError on the first failure.

    Every path is checked before anything is written. Operations that succeeded before a
    failing one stay applied, as in Codex.
    """
    ops = parse_patch(text)
    if not ops:
        raise PatchError("No files were modified.")
    for op in ops:
        _check_op_paths(op)
    changed: dict[str, list[str]] = {"A": [], "M": [], "D": []}
    for op in ops:
        kind, path = await _apply_op(fs, op)
        changed[kind].append(path)
    return PatchResult(tuple(changed["A"]), tuple(changed["M"]), tuple(changed["D"]))


async def _apply_op(fs: PatchFS, op: PatchOp) -> tuple[str, str]:
    """Apply one operation; return its summary letter (A, M or D) and the path it changed."""
    if isinstance(op, AddFile):
        await _write(fs, op.path, op.contents)
        return "A", op.path
    if isinstance(op, DeleteFile):
        await _delete(fs, op.path)
        return "D", op.path
    return "M", await _update(fs, op)


async def _update(fs: PatchFS, op: UpdateFile) -> str:
    """Rewrite (and possibly move) one file; return the path it now has."""
    try:
        original = await fs.read_text(op.path)
    except (OSError, UnicodeDecodeError) as error:
        raise PatchError(f"Failed to read file to update {op.path}: {_reason(error)}") from error
    new_text = updated_text(original, op.chunks, op.path)
    if op.move_path is None:
        await _write(fs, op.path, new_text)
        return op.path
    await _write(fs, op.move_path, new_text)
    if posixpath.normpath(op.move_path) == posixpath.normpath(op.path):
        return op.move_path
    try:
        await fs.remove(op.path)
    except OSError as error:
        raise PatchError(f"Failed to remove original {op.path}: {_reason(error)}") from error
    return op.move_path


async def _write(fs: PatchFS, path: str, text: str) -> None:
    try:
        await fs.write_text(path, text)
    except OSError as error:
        raise PatchError(f"Failed to write file {path}: {_reason(error)}") from error


async def _delete(fs: PatchFS, path: str) -> None:
    try:
        await fs.remove(path)
    except OSError as error:
        raise PatchError(f"Failed to delete file {path}: {_reason(error)}") from error


def _reason(error: OSError | UnicodeDecodeError) -> str:
    """A short description of why a file operation failed."""
    if isinstance(error, UnicodeDecodeError):
        return "the file is not valid UTF-8 text"
    if isinstance(error, FileNotFoundError):
        return "No such file or directory"
    if isinstance(error, IsADirectoryError):
        return "Is a directory"
    return error.strerror or str(error)


def _check_op_paths(op: PatchOp) -> None:
    check_relative_path(op.path)
    if isinstance(op, UpdateFile) and op.move_path is not None:
        check_relative_path(op.move_path)


def check_relative_path(path: str) -> None:
    """Raise PatchError unless `path` is relative and stays inside the patch root."""
    if not path.strip():
        raise PatchError("A file path in the patch is empty")
    if PurePosixPath(path).is_absolute() or PureWindowsPath(path).anchor:
        raise PatchError(f"Absolute paths are not allowed: {path}; use a path relative to the root")
    depth = 0
    for part in PurePosixPath(path.replace("\\", "/")).parts:
        depth += -1 if part == ".." else 1
        if depth < 0:
            raise PatchError(f"Path escapes the patch root: {path}")


class LocalPatchFS:
    """A PatchFS over a local directory; refuses paths that resolve outside it (symlinks)."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()

    async def read_text(self, path: str) -> str:
        target = self._resolve(path)
        return (await asyncio.to_thread(target.read_bytes)).decode("utf-8")

    async def write_text(self, path: str, text: str) -> None:
        await asyncio.to_thread(self._write_sync, self._resolve(path), text)

    async def remove(self, path: str) -> None:
        await asyncio.to_thread(self._remove_sync, self._resolve(path))

    def _resolve(self, path: str) -> Path:
        target = (self.root / path).resolve()
        if not target.is_relative_to(self.root):
            raise PatchError(f"Path escapes the patch root: {path}")
        return target

    @staticmethod
    def _write_sync(target: Path, text: str) -> None:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(text.encode("utf-8"))

    @staticmethod
    def _remove_sync(target: Path) -> None:
        if target.is_dir():
            raise IsADirectoryError(f"Is a directory: {target}")
        target.unlink()


def apply_patch_to_directory(text: str, root: Path) -> PatchResult:
    """Apply a patch under `root` from synchronous code (no event loop may be running)."""
    return asyncio.run(apply_patch(text, LocalPatchFS(root)))
