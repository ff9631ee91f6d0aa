"""`taskyard image build`'s progress: step n of m and the time, not the whole log."""

from __future__ import annotations

import io

from tui.commands.image import REDRAW, BuildProgress

LOG = (
    b"Step 1/3 : FROM debian:bookworm-slim\n ---> f140b930ef4b\n"
    b"Step 2/3 : RUN apt-get update && apt-get install -y git\n"
    + b"".join(f"Get:{n} http://deb.debian.org bookworm/main\n".encode() for n in range(40))
    + b"Step 3/3 : WORKDIR /workspace\nSuccessfully tagged taskyard-sandbox:latest\n"
)


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def fed(out: io.StringIO, pieces: list[bytes]) -> BuildProgress:
    now = iter(range(0, 1000, 7))
    progress = BuildProgress(out, clock=lambda: float(next(now)))
    for piece in pieces:
        progress.feed(piece)
    return progress


def test_elsewhere_each_step_is_one_line_and_the_log_stays_out() -> None:
    out = io.StringIO()
    progress = fed(out, [LOG[:50], LOG[50:333], LOG[333:]])
    progress.finish(failed=False)
    assert out.getvalue().splitlines() == [
        "step 1/3  FROM debian:bookworm-slim  (7s)",
        "step 2/3  RUN apt-get update && apt-get install -y git  (14s)",
        "step 3/3  WORKDIR /workspace  (21s)",
    ]


def test_on_a_terminal_one_line_is_redrawn_in_place() -> None:
    out = Terminal()
    progress = fed(out, [LOG])
    progress.show()
    progress.finish(failed=False)
    text = out.getvalue()
    assert "\n" not in text and text.endswith(REDRAW)
    assert text.count(REDRAW) == 5
    assert "step 3/3  WORKDIR /workspace  28s" in text and "Get:" not in text


def test_a_failed_build_prints_its_last_lines() -> None:
    out = Terminal()
    cut = LOG.index(b"Get:30") + 3
    progress = fed(out, [LOG[:cut]])
    progress.finish(failed=True)
    last = out.getvalue().split(REDRAW)[-1].splitlines()
    assert last[0] == "the build's last 25 lines:"
    assert last[1] == "Get:6 http://deb.debian.org bookworm/main" and last[-1] == "Get"
    assert len(last) == 26
