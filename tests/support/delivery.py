"""A repository with a bare remote, and task results made as a sandbox makes them, for
pull request tests without Docker."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from engine.api import Engine
from engine.views.task import TaskRecord
from tests.support.board import store_command, store_task
from tests.support.repos import git, make_calc_repo

FIXED_CALC = "def add(a, b):\n    return a + b\n"
ANSWER = (
    "Fixed `add`, which subtracted 【F:calc.py†L1-L2】. The test failed before 【c0ffee01†L1】 "
    "and passes now 【c0ffee02†L1】; see 【F:missing.py†L1】."
)
CITATIONS = [
    {"kind": "file", "target": "calc.py", "start": 1, "end": 2, "valid": True, "reason": ""},
    {"kind": "chunk", "target": "c0ffee01", "start": 1, "end": 1, "valid": True, "reason": ""},
    {"kind": "chunk", "target": "c0ffee02", "start": 1, "end": 1, "valid": True, "reason": ""},
    {
        "kind": "file",
        "target": "missing.py",
        "start": 1,
        "end": 1,
        "valid": False,
        "reason": "no such file",
    },
]
TEST_ARGV = ["bash", "-lc", "python3 -m unittest -q"]


def repo_with_remote(root: Path) -> tuple[Path, Path]:
    """The calc repository with a bare repository as its `origin`, main pushed; (repo, bare)."""
    repo = make_calc_repo(root / "calc")
    bare = root / "remote.git"
    git(root, "init", "-q", "--bare", "-b", "main", str(bare))
    git(repo, "remote", "add", "origin", str(bare))
    git(repo, "push", "-q", "origin", "main")
    return repo, bare


def remote_sha(bare: Path, branch: str) -> str:
    """The commit `branch` points at in the bare repository; empty when it has no such branch."""
    listing = git(bare, "for-each-ref", "--format=%(objectname)", f"refs/heads/{branch}")
    return listing.strip()


class TaskResult:
    """A task's branch committed in a clone of the repository, bundled as the sandbox does."""

    def __init__(self, repo: Path, work: Path, task_id: str) -> None:
        self.task_id = task_id
        self.branch = f"taskyard/{task_id}"
        self.clone = work / f"sandbox-{task_id}"
        git(work, "clone", "-q", str(repo), str(self.clone))
        git(self.clone, "checkout", "-q", "-b", self.branch)
        git(self.clone, "config", "user.name", "taskyard")
        git(self.clone, "config", "user.email", "taskyard@localhost")
        self.base_sha = git(self.clone, "rev-parse", "HEAD")
        self.bundle = work / f"{task_id}.bundle"

    def commit(self, files: dict[str, str], message: str) -> str:
        """Commit files on the task branch, bundle base..branch; return the new head."""
        for name, content in files.items():
            (self.clone / name).write_text(content)
        git(self.clone, "add", "-A")
        git(self.clone, "commit", "-q", "-m", message)
        self.bundle.unlink(missing_ok=True)
        git(
            self.clone,
            "bundle",
            "create",
            "-q",
            str(self.bundle),
            f"{self.base_sha}..{self.branch}",
        )
        return git(self.clone, "rev-parse", "HEAD")

    def diff(self) -> str:
        return git(self.clone, "diff", self.base_sha, "HEAD") + "\n"


def store_ready_task(engine: Engine, repo: Path, task_id: str, **fields: Any) -> TaskResult:
    """A ready task that fixed calc.py, with a failing then a passing test run and citations."""
    result = TaskResult(repo, engine.paths.state_dir, task_id)
    head = result.commit({"calc.py": FIXED_CALC}, "taskyard: fix add")
    values: dict[str, Any] = {
        "prompt": "Fix the failing test\nin calc.py",
        "repo": str(repo),
        "ref": "main",
        "base_sha": result.base_sha,
        "branch": result.branch,
        "head_sha": head,
        "result_bundle": str(result.bundle),
        "diff": result.diff(),
        "final_message": ANSWER,
        "citations": CITATIONS,
        **fields,
    }
    store_task(engine, task_id, **values)
    store_command(engine, task_id, "c0ffee01", TEST_ARGV, "FAILED (failures=1)\n", exit_code=1)
    store_command(engine, task_id, "c0ffee02", TEST_ARGV, "OK\n", exit_code=0)
    return result


def continue_task(engine: Engine, result: TaskResult, files: dict[str, str]) -> TaskRecord:
    """A follow-up's commit on the same branch, recorded on the task as the runner does."""
    head = result.commit(files, "taskyard: follow-up")
    engine.store.update_task(result.task_id, head_sha=head, diff=result.diff())
    return engine.task(result.task_id)
