"""Parsing of Codex `*** Begin Patch` text into typed operations, and its error messages."""

from __future__ import annotations

import dataclasses

import pytest

from engine.patch import (
    AddFile,
    DeleteFile,
    PatchParseError,
    UpdateChunk,
    UpdateFile,
    parse_patch,
)


def wrap(*body: str) -> str:
    return "\n".join(["*** Begin Patch", *body, "*** End Patch"]) + "\n"


def parse_error(text: str) -> str:
    with pytest.raises(PatchParseError) as raised:
        parse_patch(text)
    return raised.value.message


def test_parses_every_operation_in_order() -> None:
    ops = parse_patch(
        wrap(
            "*** Add File: path/add.py",
            "+abc",
            "+def",
            "*** Delete File: path/delete.py",
            "*** Update File: path/update.py",
            "*** Move to: path/update2.py",
            "@@ def f():",
            "-    pass",
            "+    return 123",
        )
    )

    assert ops == (
        AddFile("path/add.py", "abc\ndef\n"),
        DeleteFile("path/delete.py"),
        UpdateFile(
            "path/update.py",
            "path/update2.py",
            (UpdateChunk("def f():", ("    pass",), ("    return 123",), False),),
        ),
    )


def test_operations_are_frozen() -> None:
    (op,) = parse_patch(wrap("*** Delete File: a.txt"))

    with pytest.raises(dataclasses.FrozenInstanceError):
        op.path = "b.txt"  # type: ignore[misc]


def test_context_lines_go_to_both_sides_and_empty_lines_count_as_context() -> None:
    (op,) = parse_patch(wrap("*** Update File: f", "@@", " keep", "", "-old", "+new"))

    assert isinstance(op, UpdateFile)
    assert op.chunks == (UpdateChunk(None, ("keep", "", "old"), ("keep", "", "new"), False),)


def test_first_chunk_may_omit_its_header() -> None:
    (op,) = parse_patch(wrap("*** Update File: f", " import foo", "+bar"))

    assert isinstance(op, UpdateFile)
    assert op.chunks == (UpdateChunk(None, ("import foo",), ("import foo", "bar"), False),)


def test_several_chunks_and_blank_lines_between_them() -> None:
    (op,) = parse_patch(wrap("*** Update File: f", "@@ a", "-1", "+2", "   ", "@@ b", "-3", "+4"))

    assert isinstance(op, UpdateFile)
    assert [chunk.change_context for chunk in op.chunks] == ["a", "b"]
    assert op.chunks[1].old_lines == ("3",)


def test_end_of_file_marker_closes_a_chunk() -> None:
    (op,) = parse_patch(wrap("*** Update File: f", "@@", "-x", "+y", "*** End of File"))

    assert isinstance(op, UpdateFile)
    assert op.chunks[0].is_end_of_file


def test_update_followed_by_another_operation() -> None:
    ops = parse_patch(wrap("*** Update File: a", "@@", "+line", "*** Add File: b", "+content"))

    assert ops == (
        UpdateFile("a", None, (UpdateChunk(None, (), ("line",), False),)),
        AddFile("b", "content\n"),
    )


def test_whitespace_around_markers_and_headers_is_ignored() -> None:
    text = "  *** Begin Patch \n\t*** Add File: a.txt  \n+hi\n *** End Patch\t\n"

    assert parse_patch(text) == (AddFile("a.txt", "hi\n"),)


def test_crlf_patch_text_parses_like_lf() -> None:
    text = wrap("*** Update File: f", "@@ ctx", " keep", "-old", "+new")

    assert parse_patch(text.replace("\n", "\r\n")) == parse_patch(text)


@pytest.mark.parametrize("opener", ["<<EOF", "<<'EOF'", '<<"EOF"'])
def test_heredoc_wrapper_is_unwrapped(opener: str) -> None:
    text = f"{opener}\n{wrap('*** Add File: a', '+x')}EOF\n"

    assert parse_patch(text) == (AddFile("a", "x\n"),)


def test_empty_patch_parses_to_no_operations() -> None:
    assert parse_patch(wrap()) == ()


def test_unicode_lines_are_kept() -> None:
    (op,) = parse_patch(wrap("*** Add File: café.txt", "+naïve ✅"))

    assert op == AddFile("café.txt", "naïve ✅\n")


def test_missing_begin_marker() -> None:
    assert parse_error("bad") == (
        "invalid patch: The first line of the patch must be '*** Begin Patch'"
    )


@pytest.mark.parametrize("text", ["*** Begin Patch\nbad", "", "*** Begin Patch"])
def test_missing_end_marker(text: str) -> None:
    assert parse_error(text) == "invalid patch: The last line of the patch must be '*** End Patch'"


def test_invalid_hunk_header_names_line_and_valid_headers() -> None:
    message = parse_error(wrap("*** Add File: a", "+x", "*** Frobnicate File: foo"))

    assert message == (
        "invalid hunk at line 4, '*** Frobnicate File: foo' is not a valid hunk header. "
        "Valid hunk headers: '*** Add File: {path}', '*** Delete File: {path}', "
        "'*** Update File: {path}'"
    )


def test_empty_update_hunk() -> None:
    assert parse_error(wrap("*** Update File: test.py")) == (
        "invalid hunk at line 2, Update file hunk for path 'test.py' is empty"
    )


def test_chunk_header_without_lines() -> None:
    assert parse_error(wrap("*** Update File: f", "@@")) == (
        "invalid hunk at line 4, Update hunk does not contain any lines"
    )


def test_end_of_file_marker_without_lines() -> None:
    assert parse_error(wrap("*** Update File: f", "@@", "*** End of File")) == (
        "invalid hunk at line 4, Update hunk does not contain any lines"
    )


def test_unexpected_line_in_chunk() -> None:
    assert parse_error(wrap("*** Update File: f", "@@", "bad")) == (
        "invalid hunk at line 4, Unexpected line found in update hunk: 'bad'. Every line "
        "should start with ' ' (context line), '+' (added line), or '-' (removed line)"
    )


def test_second_chunk_needs_a_header() -> None:
    assert parse_error(wrap("*** Update File: f", "@@", "-a", "+b", "\tstray")) == (
        "invalid hunk at line 6, Expected update hunk to start with a @@ context marker, "
        "got: '\tstray'"
    )
