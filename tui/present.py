"""How text from the model, the sandbox or the repository reaches a terminal, inert.

The CLI writes through `terminal_output`: its stdout and stderr neutralise every escape sequence
and control character written to them, so no command can print one raw, even by accident; only
`Styled` text, made by taskyard itself, passes as it is. `--json` is `json_text`, which escapes
them all. The board's backstop is `tui.control_filter`. `plain` lays untrusted text out for either;
`reveal` lays out untrusted code, its controls made visible.
"""

from __future__ import annotations

import io
import json
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, TextIO

from engine.views.sanitize import strip_terminal_controls

_JSON_UNESCAPED_CONTROLS = re.compile("[\x7f-\x9f]")
"""DEL and the C1 controls: json.dumps escapes C0 itself but passes these through."""


def plain(text: str) -> str:
    """Untrusted text laid out for a terminal: escape sequences and control characters removed,
    a lone carriage return made a newline, newlines and tabs kept."""
    return strip_terminal_controls(text)


_HIDDEN_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def _picture(control: str) -> str:
    code = ord(control)
    if code < 0x20:
        return chr(0x2400 + code)
    return "\u2421" if code == 0x7F else f"<{code:02x}>"


def reveal(text: str) -> str:
    """Untrusted code (a diff, a file's lines) laid out for a terminal with every control
    character shown as a visible mark (ESC as ␛, C1 as <9b>), so nothing in it is hidden from
    the reviewer; CRLF line ends count as newlines."""
    return _HIDDEN_CONTROLS.sub(lambda match: _picture(match[0]), text.replace("\r\n", "\n"))


def json_text(data: Any) -> str:
    """`data` as JSON with every C0 and C1 control character escaped as `\\uXXXX` (or `\\n`…)."""
    text = json.dumps(data, ensure_ascii=False)
    return _JSON_UNESCAPED_CONTROLS.sub(lambda match: f"\\u{ord(match[0]):04x}", text)


class Styled(str):
    """Text with taskyard's own escape sequences: the one kind a TerminalWriter passes as it is.

    Make one only from taskyard's own constants. Any str built from it (concatenation,
    formatting, print) is a plain str again and is neutralised.
    """


class TerminalWriter(io.TextIOBase):
    """A text stream over `stream` that removes escape sequences and control characters from
    everything written, except `Styled` text; newlines and tabs stay."""

    def __init__(self, stream: TextIO) -> None:
        super().__init__()
        self._stream = stream

    def write(self, text: str) -> int:
        self._stream.write(text if type(text) is Styled else plain(text))
        return len(text)

    def flush(self) -> None:
        self._stream.flush()

    def writable(self) -> bool:
        return True

    def isatty(self) -> bool:
        return self._stream.isatty()

    def fileno(self) -> int:
        return self._stream.fileno()

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return self._stream.encoding

    @property
    def errors(self) -> str | None:  # type: ignore[override]
        return self._stream.errors


@contextmanager
def terminal_output() -> Iterator[None]:
    """While inside (or while a function decorated with it runs), sys.stdout and sys.stderr are
    TerminalWriters over what they were. They are restored on leaving normally; an exception
    leaves them in place, so the interpreter's report of it (a traceback, an exit message) is
    written through them too."""
    stdout, stderr = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = TerminalWriter(stdout), TerminalWriter(stderr)
    yield
    sys.stdout, sys.stderr = stdout, stderr
