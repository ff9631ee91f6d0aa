"""What clients need to show task output: its terminal control sequences neutralised (it is
hostile input)."""

from __future__ import annotations

import re

_ESCAPE_SEQUENCES = re.compile(
    r"""
    \x1b\][^\x07\x1b\r\n]*(?:\x07|\x1b\\)    # OSC ... BEL or ST (titles, OSC 52 clipboard)
    | \x1b[P^_X][^\x1b\r\n]*\x1b\\           # DCS, PM, APC, SOS strings
    | \x1b\[[0-?]*[ -/]*[@-~]                # CSI sequences (colours, clears, alt screen)
    | \x1b[ -/]*[0-~]                        # other two-byte escapes
    | \x9b[0-?]*[ -/]*[@-~]                  # 8-bit CSI
    """,
    re.VERBOSE,
)
_CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\x80-\x9f]")


def strip_terminal_controls(text: str) -> str:
    """Remove escape sequences and control characters, keeping text, tabs and newlines.

    A string sequence (OSC, DCS, ...) goes whole only when it ends on its own line; one left
    open loses just its introducer, so it never hides the text after it.
    """
    text = _ESCAPE_SEQUENCES.sub("", text)
    text = text.replace("\r\n", "\n")
    return _CONTROL_CHARACTERS.sub("", text.replace("\r", "\n"))
