"""What `taskyard demo` sets up before the board opens: its directory, the sample repository
from package data, its own config, and the sandbox image."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from engine.config import DEMO_MODEL, load_config
from engine.errors import EngineError
from tests.support.repos import git
from tui.commands.demo import ensure_image
from tui.demo import DemoError, make_place


def test_the_sample_is_a_committed_repository_with_one_failing_test(tmp_path: Path) -> None:
    place = make_place(tmp_path / "demo")
    assert git(place.repo, "log", "--format=%s") == "minicart: a tiny shopping cart"
    assert git(place.repo, "status", "--porcelain") == ""
    assert "__pycache__/" in (place.repo / ".gitignore").read_text()
    tests = subprocess.run(
        [sys.executable, "-B", "-m", "unittest"],
        cwd=place.repo,
        capture_output=True,
        text=True,
        check=False,
    )
    assert tests.returncode == 1 and "FAILED (failures=1)" in tests.stderr
    assert load_config(place.paths).model == DEMO_MODEL
    assert place.paths.state_dir.is_relative_to(tmp_path / "demo")


def test_a_fresh_demo_gets_a_new_temporary_directory() -> None:
    first, second = make_place(), make_place()
    try:
        assert first.root != second.root and first.root.name.startswith("taskyard-demo-")
    finally:
        for place in (first, second):
            shutil.rmtree(place.root)


def test_a_directory_in_use_is_refused(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(DemoError, match="not an empty directory"):
        make_place(tmp_path)
    assert sorted(path.name for path in tmp_path.iterdir()) == ["notes.txt"]


@dataclass(frozen=True)
class Check:
    step: str
    ok: bool
    detail: str


class HostChecks:
    """The two service calls ensure_image makes, answered as a host with `checks` would."""

    def __init__(self, *checks: Check) -> None:
        self.checks = list(checks)
        self.built: list[str | None] = []

    async def check_host(self, name: str) -> list[Check]:
        return self.checks

    async def build_image(
        self, tag: str | None, on_output: Callable[[bytes], None], host: str
    ) -> str:
        on_output(b"Step 1/4 : FROM debian:bookworm-slim\n")
        self.built.append(tag)
        return "taskyard-sandbox:latest"


DOCKER_UP = [Check("socket", True, "unix:///var/run/docker.sock"), Check("Docker", True, "ok")]


async def test_a_missing_image_is_built_with_its_progress_shown(
    capsys: pytest.CaptureFixture[str],
) -> None:
    host = HostChecks(*DOCKER_UP, Check("sandbox image", False, "missing"))
    await ensure_image(host)  # type: ignore[arg-type]
    assert host.built == [None]
    printed = capsys.readouterr().out
    assert "building the sandbox image" in printed and "step 1/4  FROM debian" in printed


async def test_an_image_present_is_not_built() -> None:
    host = HostChecks(*DOCKER_UP, Check("sandbox image", True, "taskyard-sandbox:latest"))
    await ensure_image(host)  # type: ignore[arg-type]
    assert host.built == []


async def test_no_docker_says_the_demo_needs_it() -> None:
    host = HostChecks(Check("socket and Docker", False, "cannot connect to the Docker socket"))
    with pytest.raises(EngineError, match="needs a running Docker engine: cannot connect"):
        await ensure_image(host)  # type: ignore[arg-type]
    assert host.built == []
