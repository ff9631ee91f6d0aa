"""What setup leaves behind, without Docker: its changes read from git, and the patterns that
keep its files out of the result."""

from __future__ import annotations

import pytest

from engine.run.setup_leftovers import SetupChanges, exclude_pattern, parse_status


def test_setup_changes_are_read_from_git_status() -> None:
    status = "?? .npmrc\0 M package.json\0 D gone.txt\0?? odd\nname\0?? node_modules/\0"
    assert parse_status(status) == SetupChanges(
        added=(".npmrc", "odd\nname", "node_modules/"), changed=("package.json", "gone.txt")
    )


@pytest.mark.parametrize(
    ("path", "pattern"),
    [
        (".npmrc", "/.npmrc"),
        ("node_modules/", "/node_modules/"),
        ("odd dir/[a]*?.txt", "/odd\\ dir/\\[a\\]\\*\\?.txt"),
        ("#hash", "/\\#hash"),
        ("!bang", "/\\!bang"),
        ("trailing ", "/trailing\\ "),
        ("new\nline", "/new?line"),
    ],
)
def test_exclude_patterns_match_exactly_the_path(path: str, pattern: str) -> None:
    assert exclude_pattern(path) == pattern
