"""Real git repositories for tests."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

BUGGY_CALC = "def add(a, b):\n    return a - b\n"
CALC_TEST = (
    "import unittest\n\nfrom calc import add\n\n\n"
    "class AddTest(unittest.TestCase):\n"
    "    def test_add(self):\n"
    "        self.assertEqual(add(2, 3), 5)\n\n\n"
    'if __name__ == "__main__":\n    unittest.main()\n'
)
CALC_AGENTS = "# Calc\n\nRun the tests with `python3 -m unittest -q`.\n"

FIX_PATCH = """*** Begin Patch
*** Update File: calc.py
@@ def add(a, b):
-    return a - b
+    return a + b
*** End Patch"""


GIT_IDENTITY = {
    "GIT_AUTHOR_NAME": "Tester",
    "GIT_AUTHOR_EMAIL": "tester@example.com",
    "GIT_COMMITTER_NAME": "Tester",
    "GIT_COMMITTER_EMAIL": "tester@example.com",
}
"""The author and committer of every commit a test makes, whatever the machine's config."""


def isolate_git(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No user or system git config (so no credential helper either), and GIT_IDENTITY."""
    global_config = tmp_path / "gitconfig"
    global_config.write_text("")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(global_config))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    for name, value in GIT_IDENTITY.items():
        monkeypatch.setenv(name, value)


def git(repo: Path, *args: str, input_text: str | None = None) -> str:
    """Run git in repo (with `input_text` on stdin) and return its stdout; raise on failure."""
    result = subprocess.run(
        ["git", "-C", str(repo), *args],
        capture_output=True,
        text=True,
        check=False,
        input=input_text,
    )
    if result.returncode != 0:
        raise AssertionError(f"git {' '.join(args)} failed: {result.stderr}")
    return result.stdout.strip()


def make_repo(path: Path, files: dict[str, str], message: str = "initial") -> Path:
    """A git repository at path with files committed on branch main."""
    path.mkdir(parents=True, exist_ok=True)
    git(path, "init", "-q", "-b", "main")
    git(path, "config", "user.name", "Test")
    git(path, "config", "user.email", "test@example.com")
    for name, content in files.items():
        target = path / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(content)
    git(path, "add", "-A")
    git(path, "commit", "-q", "-m", message)
    return path


def make_calc_repo(path: Path) -> Path:
    """A repository whose one unit test fails because add() subtracts."""
    return make_repo(
        path, {"calc.py": BUGGY_CALC, "test_calc.py": CALC_TEST, "AGENTS.md": CALC_AGENTS}
    )
