"""Applying patches: fuzzy matching, EOF anchoring, line endings, moves, paths and errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.patch import (
    LocalPatchFS,
    PatchError,
    PatchResult,
    apply_patch,
    apply_patch_to_directory,
)
from engine.patch.seek import seek_sequence


def wrap(*body: str) -> str:
    return "\n".join(["*** Begin Patch", *body, "*** End Patch"]) + "\n"


def update(path: str, *lines: str) -> str:
    return wrap(f"*** Update File: {path}", *lines)


def write(root: Path, path: str, data: str | bytes) -> Path:
    target = root / path
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data.encode() if isinstance(data, str) else data)
    return target


def apply_error(text: str, root: Path) -> str:
    with pytest.raises(PatchError) as raised:
        apply_patch_to_directory(text, root)
    return raised.value.message


class MemoryFS:
    """An in-memory PatchFS."""

    def __init__(self, files: dict[str, str]) -> None:
        self.files = dict(files)

    async def read_text(self, path: str) -> str:
        if path not in self.files:
            raise FileNotFoundError(path)
        return self.files[path]

    async def write_text(self, path: str, text: str) -> None:
        self.files[path] = text

    async def remove(self, path: str) -> None:
        if path not in self.files:
            raise FileNotFoundError(path)
        del self.files[path]


@pytest.mark.parametrize(
    ("lines", "pattern", "expected"),
    [
        (["foo", "bar", "baz"], ["bar", "baz"], 1),
        (["foo   ", "bar\t\t"], ["foo", "bar"], 0),
        (["    foo   ", "   bar\t"], ["foo", "bar"], 0),
        (["x = \u201chi\u201d \u2013 \u2018a\u2019\u00a0b"], ["x = \"hi\" - 'a' b"], 0),
        (["one"], ["too", "many"], None),
        (["a", "b"], ["c"], None),
    ],
    ids=["exact", "trailing-whitespace", "trimmed", "unicode-punctuation", "too-long", "absent"],
)
def test_seek_sequence_levels(lines: list[str], pattern: list[str], expected: int | None) -> None:
    assert seek_sequence(lines, pattern, 0, at_end_of_file=False) == expected


def test_seek_prefers_a_stricter_match_over_an_earlier_looser_one() -> None:
    assert seek_sequence(["  x", "y", "x"], ["x"], 0, at_end_of_file=False) == 2


def test_seek_starts_at_the_cursor_and_empty_pattern_matches_there() -> None:
    assert seek_sequence(["x", "y", "x"], ["x"], 1, at_end_of_file=False) == 2
    assert seek_sequence(["x"], [], 1, at_end_of_file=False) == 1


def test_seek_at_end_of_file_only_matches_the_last_lines() -> None:
    assert seek_sequence(["x", "y", "x"], ["x"], 0, at_end_of_file=True) == 2
    assert seek_sequence(["x", "y"], ["x"], 0, at_end_of_file=True) is None


def test_fuzzy_match_replaces_the_matched_region_with_the_patch_lines(tmp_path: Path) -> None:
    target = write(tmp_path, "f.py", "def f():\n    return \u201cx\u201d  \nend\n")

    apply_patch_to_directory(update("f.py", "@@", ' return "x"', "-end", "+done"), tmp_path)

    assert target.read_text() == 'def f():\nreturn "x"\ndone\n'


def test_change_context_moves_the_search_past_it(tmp_path: Path) -> None:
    target = write(tmp_path, "f", "class A:\n    x = 1\nclass B:\n    x = 1\n")

    apply_patch_to_directory(update("f", "@@ class B:", "-    x = 1", "+    x = 2"), tmp_path)

    assert target.read_text() == "class A:\n    x = 1\nclass B:\n    x = 2\n"


def test_missing_change_context_is_reported(tmp_path: Path) -> None:
    write(tmp_path, "f", "a\n")

    message = apply_error(update("f", "@@ class Z:", "-a", "+b"), tmp_path)

    assert message == "Failed to find context 'class Z:' in f"


def test_missing_lines_are_reported_with_the_expected_lines(tmp_path: Path) -> None:
    write(tmp_path, "src/m.py", "a\nb\n")

    message = apply_error(update("src/m.py", "@@", " a", "-c", "+d"), tmp_path)

    assert message == "Failed to find expected lines in src/m.py:\na\nc"


def test_multiple_chunks_apply_in_one_pass(tmp_path: Path) -> None:
    target = write(tmp_path, "f", "a\nb\nc\nd\ne\nf\n")

    result = apply_patch_to_directory(
        update("f", "@@", " a", "-b", "+B", "@@", " c", " d", "-e", "+E", "@@", " f", "+g"),
        tmp_path,
    )

    assert target.read_text() == "a\nB\nc\nd\nE\nf\ng\n"
    assert result == PatchResult(modified=("f",))


def test_end_of_file_chunk_matches_the_last_occurrence(tmp_path: Path) -> None:
    target = write(tmp_path, "f", "x\ny\nx\n")

    apply_patch_to_directory(update("f", "@@", "-x", "+z", "*** End of File"), tmp_path)

    assert target.read_text() == "x\ny\nz\n"


def test_end_of_file_chunk_fails_when_lines_are_not_at_the_end(tmp_path: Path) -> None:
    write(tmp_path, "f", "x\ny\n")

    message = apply_error(update("f", "@@", "-x", "+z", "*** End of File"), tmp_path)

    assert message.startswith("Failed to find expected lines in f:")


def test_trailing_empty_old_line_stands_for_the_final_newline(tmp_path: Path) -> None:
    target = write(tmp_path, "f", "a\nb\n")

    apply_patch_to_directory(update("f", "@@", " a", "-b", "-", "+c"), tmp_path)

    assert target.read_text() == "a\nc\n"


def test_pure_addition_goes_before_a_final_blank_line(tmp_path: Path) -> None:
    target = write(tmp_path, "f", "a\n\n")

    apply_patch_to_directory(update("f", "@@", "+b"), tmp_path)

    assert target.read_text() == "a\nb\n\n"


def test_update_adds_a_missing_final_newline(tmp_path: Path) -> None:
    target = write(tmp_path, "f", "a\nb")

    apply_patch_to_directory(update("f", "@@", "-a", "+A"), tmp_path)

    assert target.read_bytes() == b"A\nb\n"


def test_crlf_file_keeps_crlf_and_new_lines_use_it(tmp_path: Path) -> None:
    target = write(tmp_path, "f", "one\r\ntwo\r\nthree\r\n")

    apply_patch_to_directory(update("f", "@@", " one", "-two", "+2", "+2b"), tmp_path)

    assert target.read_bytes() == b"one\r\n2\r\n2b\r\nthree\r\n"


def test_crlf_patch_applies_to_lf_file(tmp_path: Path) -> None:
    target = write(tmp_path, "f", "one\ntwo\n")

    apply_patch_to_directory(update("f", "@@", "-two", "+2").replace("\n", "\r\n"), tmp_path)

    assert target.read_bytes() == b"one\n2\n"


def test_unicode_content_and_paths(tmp_path: Path) -> None:
    target = write(tmp_path, "données/café.txt", "naïve\n")

    result = apply_patch_to_directory(update("données/café.txt", "-naïve", "+naïve ✅"), tmp_path)

    assert target.read_text(encoding="utf-8") == "naïve ✅\n"
    assert result.summary == "Success. Updated the following files:\nM données/café.txt"


def test_move_writes_the_destination_and_removes_the_source(tmp_path: Path) -> None:
    write(tmp_path, "old/name.txt", "content\n")

    result = apply_patch_to_directory(
        update("old/name.txt", "*** Move to: new/dir/name.txt", "@@", "-content", "+moved"),
        tmp_path,
    )

    assert not (tmp_path / "old" / "name.txt").exists()
    assert (tmp_path / "new" / "dir" / "name.txt").read_text() == "moved\n"
    assert result.modified == ("new/dir/name.txt",)


def test_move_to_the_same_path_keeps_the_file(tmp_path: Path) -> None:
    target = write(tmp_path, "f", "a\n")

    apply_patch_to_directory(update("f", "*** Move to: ./f", "@@", "-a", "+b"), tmp_path)

    assert target.read_text() == "b\n"


def test_summary_lists_added_modified_then_deleted(tmp_path: Path) -> None:
    write(tmp_path, "m.txt", "x\n")
    write(tmp_path, "d.txt", "gone\n")

    result = apply_patch_to_directory(
        wrap(
            "*** Delete File: d.txt",
            "*** Update File: m.txt",
            "-x",
            "+y",
            "*** Add File: sub/a.txt",
            "+new",
        ),
        tmp_path,
    )

    assert result.summary == (
        "Success. Updated the following files:\nA sub/a.txt\nM m.txt\nD d.txt"
    )
    assert (tmp_path / "sub" / "a.txt").read_text() == "new\n"
    assert not (tmp_path / "d.txt").exists()


def test_empty_patch_is_an_error(tmp_path: Path) -> None:
    assert apply_error(wrap(), tmp_path) == "No files were modified."


def test_failure_keeps_the_operations_before_it(tmp_path: Path) -> None:
    text = wrap("*** Add File: created.txt", "+hello", "*** Delete File: missing.txt")

    message = apply_error(text, tmp_path)

    assert message == "Failed to delete file missing.txt: No such file or directory"
    assert (tmp_path / "created.txt").read_text() == "hello\n"


def test_update_of_a_missing_file(tmp_path: Path) -> None:
    message = apply_error(update("nope.txt", "-a", "+b"), tmp_path)

    assert message == "Failed to read file to update nope.txt: No such file or directory"


def test_deleting_a_directory_is_refused(tmp_path: Path) -> None:
    write(tmp_path, "dir/foo.txt", "x\n")

    message = apply_error(wrap("*** Delete File: dir"), tmp_path)

    assert message == "Failed to delete file dir: Is a directory"
    assert (tmp_path / "dir" / "foo.txt").exists()


def test_non_utf8_file_is_reported(tmp_path: Path) -> None:
    write(tmp_path, "bin", b"\xff\xfe\x00")

    message = apply_error(update("bin", "-a", "+b"), tmp_path)

    assert message == "Failed to read file to update bin: the file is not valid UTF-8 text"


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("../outside.txt", "Path escapes the patch root: ../outside.txt"),
        ("a/../../outside.txt", "Path escapes the patch root: a/../../outside.txt"),
        ("/etc/passwd", "Absolute paths are not allowed: /etc/passwd"),
        ("C:\\x.txt", "Absolute paths are not allowed: C:\\x.txt"),
    ],
)
def test_paths_outside_the_root_are_rejected_before_any_change(
    tmp_path: Path, path: str, message: str
) -> None:
    root = tmp_path / "root"
    root.mkdir()
    text = wrap("*** Add File: first.txt", "+x", f"*** Add File: {path}", "+y")

    assert apply_error(text, root).startswith(message)
    assert list(tmp_path.rglob("*")) == [root]


def test_move_destination_outside_the_root_is_rejected(tmp_path: Path) -> None:
    write(tmp_path, "f", "a\n")

    message = apply_error(update("f", "*** Move to: ../f", "-a", "+b"), tmp_path)

    assert message == "Path escapes the patch root: ../f"
    assert (tmp_path / "f").read_text() == "a\n"


def test_dot_dot_inside_the_root_is_allowed(tmp_path: Path) -> None:
    apply_patch_to_directory(wrap("*** Add File: a/../b.txt", "+x"), tmp_path)

    assert (tmp_path / "b.txt").read_text() == "x\n"


def test_symlink_out_of_the_root_is_refused(tmp_path: Path) -> None:
    root = tmp_path / "root"
    outside = tmp_path / "outside"
    root.mkdir()
    outside.mkdir()
    (root / "link").symlink_to(outside)

    message = apply_error(wrap("*** Add File: link/x.txt", "+x"), root)

    assert message == "Path escapes the patch root: link/x.txt"
    assert list(outside.iterdir()) == []


async def test_apply_patch_works_on_any_patch_fs() -> None:
    fs = MemoryFS({"a.txt": "one\ntwo\n", "b.txt": "bye\n"})
    text = wrap(
        "*** Update File: a.txt",
        "*** Move to: c.txt",
        "@@ one",
        "-two",
        "+2",
        "*** Delete File: b.txt",
    )

    result = await apply_patch(text, fs)

    assert fs.files == {"c.txt": "one\n2\n"}
    assert result == PatchResult(modified=("c.txt",), deleted=("b.txt",))


async def test_local_patch_fs_round_trips_bytes(tmp_path: Path) -> None:
    fs = LocalPatchFS(tmp_path)

    await fs.write_text("deep/er/f.txt", "a\r\nb")

    assert (tmp_path / "deep" / "er" / "f.txt").read_bytes() == b"a\r\nb"
    assert await fs.read_text("deep/er/f.txt") == "a\r\nb"
    await fs.remove("deep/er/f.txt")
    assert not (tmp_path / "deep" / "er" / "f.txt").exists()
