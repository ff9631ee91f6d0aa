"""The one-way rule tui -> engine -> sandboxes, checked at runtime and by import-linter."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def imported_after(module: str) -> set[str]:
    """Top-level modules loaded by importing `module` in a fresh interpreter."""
    code = (
        f"import sys, {module}; print(' '.join(sorted({{m.split('.')[0] for m in sys.modules}})))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True
    )
    return set(result.stdout.split())


def test_engine_never_loads_textual() -> None:
    loaded = imported_after("engine.api")
    assert "textual" not in loaded and "tui" not in loaded


def test_sandboxes_never_load_engine_openai_or_textual() -> None:
    loaded = imported_after("sandboxes.docker")
    assert not loaded & {"engine", "openai", "textual", "tui"}


def test_import_contracts_hold() -> None:
    lint = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run([str(lint)], capture_output=True, text=True, cwd=ROOT, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "6 kept, 0 broken" in result.stdout


def test_every_folder_of_python_is_a_package() -> None:
    """setuptools packs only folders with an __init__.py: one without it is missing from the
    wheel, though an editable install still imports it."""
    folders = {
        path.parent
        for root in ("engine", "tui", "sandboxes")
        for path in (ROOT / root).rglob("*.py")
    }
    missing = sorted(str(f.relative_to(ROOT)) for f in folders if not (f / "__init__.py").exists())
    assert missing == []
