"""The one-way rule tui -> engine -> sandboxes, checked at runtime and by import-linter."""

from __future__ import annotations

import json
import pkgutil
import subprocess
import sys
from pathlib import Path

import grimp

import engine.views
from engine.service.codec import WIRE_ERRORS, WIRE_TYPES

ROOT = Path(__file__).resolve().parents[1]

CLIENT_API = {
    "engine.service.client",
    "engine.service.oneshot",
    "engine.views",
    "engine.config",
    "engine.paths",
    "engine.errors",
}
"""The engine modules tui may import: the client API, the values that cross it (any module of
engine.views), client settings and the user-facing error."""
SANDBOX_TOOL = ("tui.commands.apply_patch", "engine.patch")
"""The one exception: the apply-patch tool runs inside the sandbox and is no client."""


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


def tui_engine_imports() -> set[tuple[str, str]]:
    """(tui module, engine module) for every direct import of the engine in tui."""
    graph = grimp.build_graph("tui", "engine", "sandboxes", cache_dir=None)
    return {
        (module, imported)
        for module in graph.find_descendants("tui")
        for imported in graph.find_modules_directly_imported_by(module)
        if imported.split(".")[0] == "engine"
    }


def test_tui_imports_exactly_the_client_api() -> None:
    """The import-linter contract forbids the rest; this keeps the allowed set from growing
    silently, and from keeping a module tui no longer needs."""
    imports = tui_engine_imports() - {SANDBOX_TOOL}
    collapsed = {
        "engine.views" if imported.startswith("engine.views.") else imported
        for _, imported in imports
    }
    assert collapsed == CLIENT_API
    assert SANDBOX_TOOL in tui_engine_imports()


def test_views_stay_light() -> None:
    """What a client holds loads no git, Docker, model client, UI, SSH or asyncio, and no
    engine module but the views, the user-facing error and the sandbox's layout constants."""
    views = [f"engine.views.{info.name}" for info in pkgutil.iter_modules(engine.views.__path__)]
    code = f"import sys, json; import {', '.join(views)}; print(json.dumps(sorted(sys.modules)))"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True
    )
    loaded = set(json.loads(result.stdout))
    heavy = {"git", "docker", "openai", "asyncssh", "textual", "asyncio", "pydantic"}
    assert {name.split(".")[0] for name in loaded} & heavy == set()
    engine_modules = {name for name in loaded if name.split(".")[0] == "engine"}
    outside = {name for name in engine_modules if not name.startswith("engine.views")}
    assert outside == {"engine", "engine.errors", "engine.run", "engine.run.layout"}


def test_what_crosses_the_wire_is_defined_in_views() -> None:
    """Every type and error the protocol carries is one a client can hold without the engine."""
    modules = {name.partition(":")[0] for name in WIRE_TYPES | WIRE_ERRORS}
    assert {m for m in modules if not m.startswith("engine.views.")} == {"engine.errors"}


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
