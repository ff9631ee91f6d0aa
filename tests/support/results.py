"""Task results without Docker: the agent's commits made with git in a clone, bundled as the
engine bundles them, and stored as a finished task."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

from engine.api import Engine
from engine.views.task import TaskRecord
from tests.support.board import store_task
from tests.support.repos import git, make_repo

LINES = "".join(f"line {n}\n" for n in range(1, 31))
"""30 lines: changing lines 3, 15 and 27 makes three hunks."""

Edit = Callable[[Path], None]


def base_repo(path: Path) -> Path:
    """A repository with a file of 30 lines, files to delete, rename and make executable."""
    repo = make_repo(
        path,
        {
            "lines.txt": LINES,
            "gone.txt": "remove me\n",
            "old_name.txt": "renamed but the same\n",
            "run.sh": "echo run\n",
        },
    )
    (repo / "logo.bin").write_bytes(b"\x89PNG\x00\x01\x02")
    git(repo, "add", "logo.bin")
    git(repo, "commit", "-q", "-m", "binary")
    return repo


def replace_lines(text: str, changes: dict[int, str]) -> str:
    """`text` with the 1-based numbered lines replaced."""
    lines = text.splitlines(keepends=True)
    for number, line in changes.items():
        lines[number - 1] = line
    return "".join(lines)


HUNK_CHANGES = {3: "line 3 changed\n", 15: "line 15 changed\n", 27: "line 27 changed\n"}


def every_kind_of_change(work: Path) -> None:
    """Three hunks in lines.txt, a new file, a deletion, a rename, a binary and a mode change."""
    (work / "lines.txt").write_text(replace_lines(LINES, HUNK_CHANGES))
    (work / "new.txt").write_text("brand new\n")
    (work / "gone.txt").unlink()
    (work / "old_name.txt").rename(work / "new_name.txt")
    (work / "logo.bin").write_bytes(b"\x89PNG\x00\x03\x04")
    (work / "run.sh").chmod(0o755)


def git_bytes(repo: Path, *args: str) -> bytes:
    return subprocess.run(["git", "-C", str(repo), *args], capture_output=True, check=True).stdout


def commit_result(repo: Path, work: Path, branch: str, edit: Edit) -> tuple[str, str]:
    """Clone `repo` into `work`, run `edit` there and commit it on `branch`: (base, head)."""
    base = git(repo, "rev-parse", "HEAD")
    subprocess.run(["git", "clone", "-q", str(repo), str(work)], check=True)
    git(work, "checkout", "-q", "-b", branch)
    edit(work)
    git(work, "add", "--all")
    git(work, "-c", "user.name=agent", "-c", "user.email=agent@example.com", "commit", "-qm", "t")
    return base, git(work, "rev-parse", "HEAD")


def add_crafted_entry(work: Path, directory: str, name: str, content: str) -> str:
    """Commit a tree entry git itself would never add (e.g. `.git` or `..`); the new head."""
    blob = git(work, "hash-object", "-w", "--stdin", input_text=content)
    inner = git(work, "mktree", input_text=f"100644 blob {blob}\t{name}\n")
    listing = git(work, "ls-tree", "HEAD") + f"\n040000 tree {inner}\t{directory}\n"
    tree = git(work, "mktree", input_text=listing)
    head = git(work, "commit-tree", tree, "-p", "HEAD", "-m", "crafted")
    git(work, "update-ref", "HEAD", head)
    return head


def store_result_task(
    engine: Engine,
    task_id: str,
    repo: Path,
    edit: Edit,
    scratch: Path,
    craft: Edit | None = None,
    **fields: object,
) -> TaskRecord:
    """A ready task of `repo` whose result is what `edit` did (then `craft`, on the committed
    clone), bundled like the engine does."""
    branch = f"taskyard/{task_id}"
    work = scratch / f"work-{task_id}"
    base, _ = commit_result(repo, work, branch, edit)
    if craft is not None:
        craft(work)
    head = git(work, "rev-parse", "HEAD")
    bundle = scratch / f"{task_id}.bundle"
    git(work, "bundle", "create", "-q", str(bundle), f"{base}..{branch}")
    diff = git_bytes(work, "diff", "--binary", base, "HEAD").decode("utf-8", errors="replace")
    return store_task(
        engine,
        task_id,
        repo=str(repo),
        base_sha=base,
        branch=branch,
        head_sha=head,
        result_bundle=str(bundle),
        diff=diff,
        **fields,
    )


def tree_state(repo: Path) -> dict[str, bytes]:
    """Every byte of the working tree, the index and HEAD, read without writing anything."""
    state: dict[str, bytes] = {}
    for path in sorted(repo.rglob("*")):
        relative = path.relative_to(repo).as_posix()
        if relative == ".git" or relative.startswith(".git/"):
            continue
        if path.is_symlink():
            state[relative] = b"-> " + str(path.readlink()).encode()
        elif path.is_file():
            state[relative] = path.read_bytes() + f" mode {path.stat().st_mode:o}".encode()
    state[".git/index"] = (repo / ".git" / "index").read_bytes()
    state[".git/HEAD"] = (repo / ".git" / "HEAD").read_bytes()
    state["HEAD commit"] = git_bytes(repo, "rev-parse", "HEAD")
    return state
