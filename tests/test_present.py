"""The presentation layer's parts: the CLI's neutralising stream and its JSON."""

from __future__ import annotations

import io
import json
import sys

import pytest

from tui.present import Styled, TerminalWriter, json_text, terminal_output

EVERY_CONTROL = "".join(map(chr, [*range(0x20), *range(0x7F, 0xA0)]))
"""C0, DEL and C1: U+0000 to U+001F and U+007F to U+009F."""
LINE_LAYOUT = "\t\n\r"


def test_json_escapes_every_c0_and_c1_control_character_and_round_trips() -> None:
    text = json_text({"text": f"a{EVERY_CONTROL}b"})
    assert not any(character in EVERY_CONTROL for character in text)
    assert "\\u001b" in text and "\\u007f" in text and "\\u009b" in text
    assert json.loads(text) == {"text": f"a{EVERY_CONTROL}b"}


def test_the_writer_keeps_newlines_and_tabs_and_drops_every_other_control() -> None:
    stream = io.StringIO()
    others = "".join(c for c in EVERY_CONTROL if c not in LINE_LAYOUT)
    TerminalWriter(stream).write(f"a\tb\x1b]0;title\x07c\x1b[2J{others}\r\nd\re\n")
    assert stream.getvalue() == "a\tbc\nd\ne\n"


def test_styled_text_passes_the_writer_and_text_built_from_it_does_not() -> None:
    stream = io.StringIO()
    writer = TerminalWriter(stream)
    bold = Styled("\x1b[1m")
    writer.write(bold)
    writer.write(bold + "x\x1b[2J")
    print(bold, file=writer)
    assert stream.getvalue() == "\x1b[1mx\n"


def test_terminal_output_wraps_stdout_and_stderr_only_while_inside() -> None:
    stdout, stderr = sys.stdout, sys.stderr
    with terminal_output():
        assert isinstance(sys.stdout, TerminalWriter) and isinstance(sys.stderr, TerminalWriter)
    assert (sys.stdout, sys.stderr) == (stdout, stderr)


def test_an_exception_leaves_the_writers_for_the_interpreters_report_of_it(
    capsys: pytest.CaptureFixture[str],
) -> None:
    stdout, stderr = sys.stdout, sys.stderr
    try:
        with pytest.raises(RuntimeError), terminal_output():
            raise RuntimeError("unexpected")
        print("Traceback: \x1b]0;pwned\x07RuntimeError", file=sys.stderr)
    finally:
        sys.stdout, sys.stderr = stdout, stderr
    assert capsys.readouterr().err == "Traceback: RuntimeError\n"
