"""Codex's `apply_patch` tool: parse `*** Begin Patch` patches and apply them to files."""

from engine.patch.apply import (
    LocalPatchFS,
    PatchFS,
    PatchResult,
    apply_patch,
    apply_patch_to_directory,
)
from engine.patch.errors import PatchError, PatchParseError
from engine.patch.parser import (
    AddFile,
    DeleteFile,
    PatchOp,
    UpdateChunk,
    UpdateFile,
    parse_patch,
)

__all__ = [
    "AddFile",
    "DeleteFile",
    "LocalPatchFS",
    "PatchError",
    "PatchFS",
    "PatchOp",
    "PatchParseError",
    "PatchResult",
    "UpdateChunk",
    "UpdateFile",
    "apply_patch",
    "apply_patch_to_directory",
    "parse_patch",
]
