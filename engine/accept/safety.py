"""What makes a result unsafe to accept without the person's say-so.

A patch is flagged when it:

- names a path with a `.git` component (any case; also the `.git.`/`.git `/`git~1` spellings
  some file systems fold to `.git`), a `..` component, or an absolute path;
- adds or changes a symlink whose target is absolute, climbs out of the repository, or leads
  into `.git`;
- installs git hooks: files in hook directories that `core.hooksPath` is pointed at
  (`.husky/`, `.githooks/`, `.git-hooks/`, `githooks/`), hook managers' configuration
  (`.pre-commit-config.yaml`, lefthook, overcommit, husky), a `.gitconfig` file, or any added
  line that sets `hooksPath`;
- adds `.gitattributes` lines with `filter=`, `diff=` or `merge=`: drivers that run commands;
- writes credentials: any line of `.netrc` or `.git-credentials`, or a token, password or auth
  line of a package manager's configuration (`.npmrc`, `.yarnrc`, `.yarnrc.yml`, `.pypirc`).

Every path a file's header mentions is checked, so a rename cannot hide where it writes.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterator, Sequence

from engine.diff.patchset import SYMLINK_MODE
from engine.views.diff import FileDiff
from engine.views.safety import Finding, UnsafeResult

HOOK_DIRS = frozenset({".husky", ".githooks", ".git-hooks", "githooks"})
HOOK_CONFIGS = frozenset(
    {
        ".pre-commit-config.yaml",
        ".pre-commit-config.yml",
        "lefthook.yml",
        "lefthook.yaml",
        ".lefthook.yml",
        ".lefthook.yaml",
        "lefthook-local.yml",
        ".overcommit.yml",
        ".huskyrc",
        ".huskyrc.json",
        ".huskyrc.js",
        ".gitconfig",
    }
)
CREDENTIAL_FILES = frozenset({".netrc", "_netrc", ".git-credentials"})
PACKAGE_CONFIGS = frozenset({".npmrc", ".yarnrc", ".yarnrc.yml", ".pypirc"})
_GIT_DIR_SPELLINGS = frozenset({".git", "git~1"})
_DRIVER = re.compile(r"(?:^|\s)(filter|diff|merge)=(\S+)")
_HOOKS_PATH = re.compile(r"hookspath", re.IGNORECASE)
_CREDENTIAL_KEY = re.compile(r"(_auth\w*|authtoken|token|password|passwd)\s*[=:]", re.IGNORECASE)


def findings(files: Sequence[FileDiff]) -> list[Finding]:
    """Every reason, file by file, that accepting `files` is unsafe."""
    found: list[Finding] = []
    for file in files:
        found += _path_findings(file)
        found += _symlink_findings(file)
        found += _hook_findings(file)
        found += _attribute_findings(file)
        found += _credential_findings(file)
    return list(dict.fromkeys(found))


def _components(path: str) -> list[str]:
    return [part for part in path.split("/") if part]


def _is_git_dir(component: str) -> bool:
    return component.casefold().rstrip(". ") in _GIT_DIR_SPELLINGS


def _path_findings(file: FileDiff) -> Iterator[Finding]:
    for name in file.names:
        if name.startswith("/"):
            yield Finding(name, "absolute path: it writes outside the repository")
        if ".." in _components(name):
            yield Finding(name, "`..` in the path: it writes outside the repository")
        if any(_is_git_dir(part) for part in _components(name)):
            yield Finding(name, "writes into .git/, the repository's own configuration")


def _added_lines(file: FileDiff) -> Iterator[str]:
    for hunk in file.hunks:
        yield from (line[1:] for line in hunk.lines if line.startswith("+"))


def _symlink_findings(file: FileDiff) -> Iterator[Finding]:
    if file.new_mode != SYMLINK_MODE or file.new_path is None:
        return
    if not file.hunks:
        yield Finding(file.path, "becomes a symlink whose target the diff does not show")
        return
    target = file.hunks[-1].postimage()
    resolved = posixpath.normpath(posixpath.join(posixpath.dirname(file.new_path), target))
    if target.startswith("/"):
        yield Finding(file.path, f"symlink to an absolute path outside the repository: {target}")
    elif resolved == ".." or resolved.startswith("../"):
        yield Finding(file.path, f"symlink pointing outside the repository: {target}")
    elif any(_is_git_dir(part) for part in _components(resolved)):
        yield Finding(file.path, f"symlink into .git/: {target}")


def _hook_findings(file: FileDiff) -> Iterator[Finding]:
    if file.new_path is None:
        return
    parts = [part.casefold() for part in _components(file.new_path)]
    if any(part in HOOK_DIRS for part in parts[:-1]):
        yield Finding(file.path, "installs a git hook: a hook directory runs on your commits")
    elif parts and parts[-1] in HOOK_CONFIGS:
        yield Finding(file.path, "configures git hooks or git itself")
    if any(_HOOKS_PATH.search(line) for line in _added_lines(file)):
        yield Finding(file.path, "sets core.hooksPath: git would run hooks from the repository")


def _attribute_findings(file: FileDiff) -> Iterator[Finding]:
    if file.new_path is None or posixpath.basename(file.new_path).casefold() != ".gitattributes":
        return
    for line in _added_lines(file):
        for driver, name in _DRIVER.findall(line):
            yield Finding(file.path, f"adds a {driver} driver ({driver}={name}) that runs commands")


def _credential_findings(file: FileDiff) -> Iterator[Finding]:
    if file.new_path is None:
        return
    name = posixpath.basename(file.new_path).casefold()
    added = list(_added_lines(file))
    if name in CREDENTIAL_FILES and added:
        yield Finding(file.path, "stores credentials")
    elif name in PACKAGE_CONFIGS and any(_CREDENTIAL_KEY.search(line) for line in added):
        yield Finding(file.path, "stores a token or password for a package registry")


def check(task_id: str, files: Sequence[FileDiff], allow_unsafe: bool) -> list[Finding]:
    """The findings for `files`; UnsafeResult when there are some and they are not allowed."""
    found = findings(files)
    if found and not allow_unsafe:
        raise UnsafeResult(task_id, found)
    return found
