"""taskyard installed as an application: a wheel built from this checkout, installed with its
dependencies from the package index into a fresh venv outside the repository, run through a
symlink on PATH as pipx and `uv tool` install it, with no virtualenv active."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.cli import doctor_env, run_doctor, run_taskyard
from tests.support.model_server import ScriptedModelServer
from tui.demo import RENAMED

REPO = Path(__file__).resolve().parents[1]
PACKAGES = ("engine", "sandboxes", "themes", "tui")
"""The top-level packages the wheel holds, and only these (no tests, no benchmarks)."""
MODEL = "scripted-codex"
RESOURCES = """\
import json, subprocess, sys, tui
from pathlib import Path
from sandboxes.image import dockerfile_bytes
from tui.demo import make_place
from tui.themes import bundled_themes_dir, load_theme_files
themes, problems = load_theme_files(bundled_themes_dir())
demo = make_place(Path(sys.argv[1]))
listed = ["git", "-C", str(demo.repo), "ls-files"]
print(json.dumps({
    "tui": tui.__file__,
    "themes": sorted(theme.name for theme in themes),
    "problems": problems,
    "dockerfile": dockerfile_bytes().decode(),
    "demo": subprocess.run(listed, capture_output=True, text=True).stdout.split(),
}))
"""
"""Run by the installed interpreter: what the installed package reads of its bundled data (the
themes, the sandbox's Dockerfile, and the demo's sample repository, committed)."""


@dataclass(frozen=True)
class Installed:
    """A wheel of this checkout, installed in its own venv outside the repository."""

    wheel: Path
    venv: Path
    bin_dir: Path
    """Holds only a `taskyard` symlink into the venv, as pipx and `uv tool` make."""
    seconds: dict[str, float]

    @property
    def python(self) -> Path:
        return self.venv / "bin" / "python"

    def env(self, base: dict[str, str]) -> dict[str, str]:
        """base with no virtualenv active, nothing on PYTHONPATH, and only bin_dir and the
        system's directories on PATH (not the test run's venv)."""
        ours = str(Path(sys.executable).parent)
        system = [d for d in base.get("PATH", os.defpath).split(os.pathsep) if d and d != ours]
        dropped = ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME", "PYTHONSAFEPATH")
        clean = {k: v for k, v in base.items() if k not in dropped}
        return {**clean, "PATH": os.pathsep.join([str(self.bin_dir), *system])}


def tracked_files() -> list[str]:
    """The checkout's files that git tracks or would track (untracked, not ignored)."""
    listed = subprocess.run(
        ["git", "-C", str(REPO), "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        capture_output=True,
        check=True,
    )
    names = [name.decode() for name in listed.stdout.split(b"\0") if name]
    return [name for name in names if (REPO / name).is_file()]


def copy_source(target: Path) -> None:
    """This checkout's files, without its venv, caches and build leftovers."""
    for name in tracked_files():
        path = target / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes((REPO / name).read_bytes())


def timed(seconds: dict[str, float], step: str, argv: list[str], cwd: Path) -> None:
    start = time.monotonic()
    done = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=300)
    seconds[step] = round(time.monotonic() - start, 1)
    assert done.returncode == 0, f"{step} failed:\n{done.stdout}\n{done.stderr}"


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    """Build the wheel (pip wheel, build isolation), make a venv, install it with its
    dependencies; no pip cache is read or written."""
    root = tmp_path_factory.mktemp("wheel")
    source, dist, venv, bin_dir = (root / name for name in ("source", "dist", "venv", "bin"))
    copy_source(source)
    seconds: dict[str, float] = {}
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "--no-cache-dir"]
    timed(seconds, "wheel", [*pip, "wheel", "-q", "--no-deps", "-w", str(dist), "."], source)
    (wheel,) = dist.glob("taskyard-*.whl")
    timed(seconds, "venv", [sys.executable, "-m", "venv", "--without-pip", str(venv)], root)
    target = ["--python", str(venv / "bin" / "python")]
    timed(seconds, "install", [*pip, *target, "install", "-q", str(wheel)], root)
    bin_dir.mkdir()
    (bin_dir / "taskyard").symlink_to(venv / "bin" / "taskyard")
    return Installed(wheel, venv, bin_dir, seconds)


@pytest.fixture
def person_repo(tmp_path: Path) -> Path:
    """Where the person runs taskyard: a repository of their own, not taskyard's."""
    repo = tmp_path / "your-repo"
    repo.mkdir()
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    return repo


def test_the_wheel_holds_every_file_of_its_packages(installed: Installed) -> None:
    with zipfile.ZipFile(installed.wheel) as wheel:
        names = set(wheel.namelist())
    tops = {name.split("/")[0] for name in names if not name.split("/")[0].endswith(".dist-info")}
    assert tops == set(PACKAGES)
    packaged = [name for name in tracked_files() if name.split("/")[0] in PACKAGES]
    assert sorted(set(packaged) - names) == []
    print(f"wheel test timings (s): {installed.seconds}")


def test_version_runs_outside_a_virtualenv(installed: Installed, person_repo: Path) -> None:
    env = installed.env({**os.environ, "TASKYARD_HOME": str(person_repo.parent / "home")})
    result = subprocess.run(
        ["taskyard", "--version"], cwd=person_repo, env=env, capture_output=True, text=True
    )
    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout == f"taskyard {wheel_version(installed.wheel)}\n"


def wheel_version(wheel: Path) -> str:
    return wheel.name.split("-")[1]


def test_the_installed_package_reads_its_themes_dockerfile_and_demo(
    installed: Installed, person_repo: Path
) -> None:
    result = subprocess.run(
        [str(installed.python), "-P", "-c", RESOURCES, str(person_repo.parent / "demo")],
        cwd=person_repo,
        env=installed.env(dict(os.environ)),
        capture_output=True,
        text=True,
        check=True,
    )
    read = json.loads(result.stdout)
    assert Path(read["tui"]).is_relative_to(installed.venv), "the installed copy, not the repo's"
    assert read["problems"] == []
    assert read["themes"] == ["taskyard-dark", "taskyard-light"]
    assert read["dockerfile"] == (REPO / "sandboxes/image/Dockerfile").read_text()
    assert sorted(read["demo"]) == demo_sample_files()


def demo_sample_files() -> list[str]:
    """The files of the demo's sample repository, as the demo names them in the copy."""
    prefix = "tui/demo/sample/"
    sample = [Path(name[len(prefix) :]) for name in tracked_files() if name.startswith(prefix)]
    return sorted(str(path.with_name(RENAMED.get(path.name, path.name))) for path in sample)


@pytest.fixture
def server() -> Iterator[ScriptedModelServer]:
    with ScriptedModelServer(models=[MODEL], api_key="test-key") as started:
        yield started


def test_doctor_all_green_from_the_installed_command(
    docker_available: None,
    installed: Installed,
    person_repo: Path,
    tmp_path: Path,
    server: ScriptedModelServer,
) -> None:
    env = installed.env(doctor_env(tmp_path, server, MODEL))
    result, lines = run_doctor(env, cwd=person_repo, command="taskyard")
    assert result.returncode == 0, result.stdout + result.stderr
    assert all(line.startswith("✓") for line in lines.values()), result.stdout
    assert lines["local: sandbox image"] == "✓ taskyard-sandbox:latest"
    assert lines["model endpoint"] == f"✓ {server.base_url} offers {MODEL}"
    status = run_taskyard("serve", "status", "--json", env=env, command="taskyard")
    pid = json.loads(status.stdout)["pid"]
    argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    assert argv[0].decode() == str(installed.python), "the service runs the installed package"
