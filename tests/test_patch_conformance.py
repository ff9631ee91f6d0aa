"""Codex's apply_patch scenarios: apply patch.txt to input/ and compare with expected/."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from engine.patch import PatchError, apply_patch_to_directory

SCENARIOS_DIR = Path(__file__).resolve().parent / "fixtures" / "apply_patch_scenarios"
"""Codex's scenarios, vendored with their source and licence in SOURCE.md."""
FAILING_SCENARIO_WORDS = ("rejects", "fails", "requires_existing", "failure")


def scenario_dirs() -> list[Path]:
    """Every scenario directory (one holding a patch.txt)."""
    return sorted(path.parent for path in SCENARIOS_DIR.glob("*/patch.txt"))


def directory_files(root: Path) -> dict[str, bytes]:
    """Map each file's path relative to `root` to its bytes."""
    if not root.is_dir():
        return {}
    return {
        path.relative_to(root).as_posix(): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


def test_conformance_scenarios_are_present() -> None:
    assert len(scenario_dirs()) == 23, f"expected Codex's 23 scenarios in {SCENARIOS_DIR}"


@pytest.mark.parametrize("scenario", scenario_dirs(), ids=lambda path: path.name)
def test_scenario(scenario: Path, tmp_path: Path) -> None:
    work = tmp_path / "work"
    if (scenario / "input").is_dir():
        shutil.copytree(scenario / "input", work)
    else:
        work.mkdir()
    patch = (scenario / "patch.txt").read_text(encoding="utf-8")

    should_fail = any(word in scenario.name for word in FAILING_SCENARIO_WORDS)

    try:
        apply_patch_to_directory(patch, work)
    except PatchError as error:
        assert should_fail, f"unexpected failure: {error.message}"
    else:
        assert not should_fail, "the patch should have been rejected"

    assert directory_files(work) == directory_files(scenario / "expected")
