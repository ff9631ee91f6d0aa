"""Splitting a git diff into files and hunks and putting it back together exactly."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.diff.patchset import parse_patch, render_patch
from engine.views.diff import DiffFormatError
from tests.support.repos import git, make_repo
from tests.support.results import git_bytes

TWO_HUNKS = (
    "diff --git a/f.txt b/f.txt\n"
    "index 1111111..2222222 100644\n"
    "--- a/f.txt\n"
    "+++ b/f.txt\n"
    "@@ -1,3 +1,5 @@ top\n"
    " a\n"
    "+new 1\n"
    "+new 2\n"
    " b\n"
    " c\n"
    "@@ -20,3 +22,2 @@ bottom\n"
    " x\n"
    "-y\n"
    " z\n"
)


def test_a_diff_of_every_kind_renders_back_byte_for_byte(tmp_path: Path) -> None:
    repo = make_repo(
        tmp_path / "r",
        {"crlf.txt": "one\r\ntwo\r\n", "tail.txt": "no newline", "é x.txt": "quoted\n"},
    )
    (repo / "crlf.txt").write_bytes(b"one\r\nTWO\r\n")
    (repo / "tail.txt").write_text("no newline, still")
    (repo / "é x.txt").rename(repo / "é y.txt")
    (repo / "bytes.bin").write_bytes(bytes(range(256)))
    (repo / "form\ffeed.txt").write_text("a\fb\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "change")
    raw = git_bytes(repo, "diff", "--binary", "--full-index", "-M", "HEAD~", "HEAD")
    text = raw.decode("utf-8", "surrogateescape")
    files = parse_patch(text)
    assert render_patch(files).encode("utf-8", "surrogateescape") == raw
    assert {file.path for file in files} == {
        "bytes.bin",
        "crlf.txt",
        "form\ffeed.txt",
        "tail.txt",
        "é y.txt",
    }
    renamed = next(file for file in files if file.kind == "renamed")
    assert (renamed.old_path, renamed.new_path) == ("é x.txt", "é y.txt")


def test_leaving_out_a_hunk_shifts_the_new_side_of_the_rest() -> None:
    (file,) = parse_patch(TWO_HUNKS)
    assert render_patch([file]) == TWO_HUNKS
    second_only = render_patch([file.with_hunks([2])])
    assert "@@ -20,3 +20,2 @@ bottom\n x\n-y\n z\n" in second_only
    assert "new 1" not in second_only


def test_an_edited_patch_is_recounted() -> None:
    edited = TWO_HUNKS.replace("+new 2\n", "+new 2\n+new 3\n").replace(" b\n", "\n")
    (file,) = parse_patch(edited + "\n\n")
    rendered = render_patch([file])
    assert "@@ -1,3 +1,6 @@ top\n a\n+new 1\n+new 2\n+new 3\n \n c\n" in rendered
    assert "@@ -20,3 +23,2 @@ bottom" in rendered


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("some words\n" + TWO_HUNKS, 1),
        (TWO_HUNKS + "trailing words\n", 15),
        (TWO_HUNKS.replace("@@ -20,3 +22,2 @@", "@@ twenty @@"), 11),
    ],
)
def test_what_is_not_a_patch_line_is_an_error(text: str, line: int) -> None:
    with pytest.raises(DiffFormatError, match=f"line {line} of the patch"):
        parse_patch(text)
