"""Command output: the whole of it on disk, a bounded head and tail for the model."""

from __future__ import annotations

from pathlib import Path

from engine.agent.output import OutputRecorder, count_lines
from engine.views.sanitize import strip_terminal_controls


def recorded(tmp_path: Path, *chunks: bytes, head: int = 2, tail: int = 2) -> OutputRecorder:
    recorder = OutputRecorder(tmp_path / "c.log", head, tail, line_cap=10)
    for chunk in chunks:
        recorder.feed(chunk)
    recorder.close()
    return recorder


def test_short_output_is_shown_whole(tmp_path: Path) -> None:
    recorder = recorded(tmp_path, b"a\nb\n")
    assert recorder.model_view() == "a\nb" and recorder.lines == 2


def test_long_output_names_the_elided_lines(tmp_path: Path) -> None:
    recorder = recorded(tmp_path, "".join(f"line {n}\n" for n in range(1, 11)).encode())
    assert recorder.model_view().splitlines() == [
        "line 1",
        "line 2",
        "[… 6 lines elided (lines 3-8) …]",
        "line 9",
        "line 10",
    ]
    assert count_lines(tmp_path / "c.log") == recorder.lines == 10


def test_huge_line_without_newline_is_bounded_but_stored(tmp_path: Path) -> None:
    recorder = recorded(tmp_path, b"y" * 5_000_000, b"z" * 5_000_000)
    assert recorder.model_view() == "yyyyyyyyyy[… 9999980 characters elided …]zzzzzzzzzz"
    assert (tmp_path / "c.log").stat().st_size == 10_000_000
    assert count_lines(tmp_path / "c.log") == recorder.lines == 1


def test_split_utf8_and_binary_bytes_decode_safely(tmp_path: Path) -> None:
    snowman = "☃".encode()
    recorder = recorded(tmp_path, snowman[:1], snowman[1:] + b"\n\xff\x00ok\n")
    assert recorder.model_view() == "☃\n\ufffdok"


def test_terminal_controls_are_neutralised() -> None:
    hostile = "a\x1b]52;c;ZXZpbA==\x07b\x1b]0;title\x07c\x1b[2Jd\x1b[?1049he\x07\x1b[31mf\x1b[0m"
    assert strip_terminal_controls(hostile) == "abcdef"
    assert strip_terminal_controls("x\r\ny\rz\tw") == "x\ny\nz\tw"
