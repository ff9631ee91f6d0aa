"""What `taskyard demo` sets up: a fresh directory holding the sample repository (package data,
read through importlib.resources) and the demo's own config and state, whose model is the
offline demo model; and the sample tasks it starts."""

from __future__ import annotations

import subprocess
import tempfile
from dataclasses import dataclass
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Literal

from engine.config import DEMO_MODEL
from engine.paths import Paths

REPO_NAME = "minicart"
SAMPLE = "sample"
RENAMED = {"gitignore": ".gitignore"}
"""Sample files stored under another name: package data leaves dot files out."""
SKIPPED = ("__pycache__", ".pyc")
IDLE_MINUTES = 2
CONFIG = f"""\
# taskyard demo: the offline demo model on a sample repository; no key, no network.
model = "{DEMO_MODEL}"

[service]
idle_minutes = {IDLE_MINUTES}
"""


@dataclass(frozen=True)
class SampleTask:
    """A task the demo starts as it opens."""

    prompt: str
    mode: Literal["code", "ask"] = "code"
    attempts: int = 1


SAMPLE_TASKS = (
    SampleTask("Fix the failing test", attempts=2),
    SampleTask("Why does test_ten_percent_discount fail?", mode="ask"),
    SampleTask("Add Cart.item_count(), with a test"),
)
"""A fix whose attempts are ranked, an answer, and a claim that the evidence contradicts."""
WELCOME = (
    "Sample tasks run in real containers on an offline model: a fix (two attempts), a "
    "question, and a claim its own test runs contradict. enter opens one, n starts yours, "
    "q ends the demo."
)


class DemoError(Exception):
    """The demo cannot be set up; the message says why and what to do."""


@dataclass(frozen=True)
class DemoPlace:
    """Where one demo lives: its repository, and its own config and state."""

    root: Path

    @property
    def repo(self) -> Path:
        return self.root / REPO_NAME

    @property
    def paths(self) -> Paths:
        home = self.home
        return Paths(config_dir=home / "config", state_dir=home / "state")

    @property
    def home(self) -> Path:
        """The demo's TASKYARD_HOME."""
        return self.root / "home"


def make_place(root: Path | None = None) -> DemoPlace:
    """A new demo in `root` (a new temporary directory when None): the sample repository
    committed on main, and the config that picks the demo model."""
    place = DemoPlace(fresh_directory(root))
    copy_tree(files(__name__) / SAMPLE, place.repo)
    commit_sample(place.repo)
    place.paths.ensure()
    place.paths.config_file.write_text(CONFIG, encoding="utf-8")
    return place


def fresh_directory(root: Path | None) -> Path:
    if root is None:
        return Path(tempfile.mkdtemp(prefix="taskyard-demo-")).resolve()
    root = root.expanduser().resolve()
    if root.exists() and (not root.is_dir() or any(root.iterdir())):
        raise DemoError(f"{root} is not an empty directory: give a new or empty one to --dir")
    root.mkdir(parents=True, exist_ok=True)
    return root


def copy_tree(source: Traversable, target: Path) -> None:
    """Copy a package-data tree to `target`, dot files restored."""
    target.mkdir(parents=True, exist_ok=True)
    for entry in source.iterdir():
        if entry.name.endswith(SKIPPED):
            continue
        path = target / RENAMED.get(entry.name, entry.name)
        if entry.is_dir():
            copy_tree(entry, path)
        else:
            path.write_bytes(entry.read_bytes())


def commit_sample(repo: Path) -> None:
    """Make the sample a git repository with one commit on main, its own identity set (a
    partial accept commits there)."""
    for args in (
        ["init", "-q", "-b", "main"],
        ["config", "user.name", "taskyard demo"],
        ["config", "user.email", "demo@taskyard.invalid"],
        ["config", "commit.gpgsign", "false"],
        ["add", "-A"],
        ["commit", "-q", "-m", "minicart: a tiny shopping cart"],
    ):
        done = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True)
        if done.returncode != 0:
            raise DemoError(f"git {args[0]} failed in {repo}: {done.stderr.strip()}")


def farewell(place: DemoPlace) -> str:
    """What the person is told when the demo ends, in lines that fit 80 columns."""
    return (
        "taskyard demo: ended. Its repository stays in\n"
        f"  {place.repo}\n"
        "with the results you accepted as its taskyard/* branches (`git branch` there).\n"
        "`taskyard demo` starts a fresh demo; `taskyard` in your own repository, with\n"
        "OPENAI_API_KEY set, puts a real model to work."
    )
