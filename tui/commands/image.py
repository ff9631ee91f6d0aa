"""`taskyard image build`: build the default sandbox image, showing a compact progress."""

from __future__ import annotations

import argparse
import asyncio
import collections
import re
import shutil
import sys
import time
from collections.abc import Callable
from typing import TextIO

from engine.service.client import ServiceClient
from tui.commands.common import one_line, with_client
from tui.present import Styled

STEP = re.compile(r"^Step (\d+)/(\d+) : (.*)$")
"""How the classic builder announces each Dockerfile step."""
TAIL_LINES = 25
"""The build's last lines, shown when it fails."""
REDRAW = Styled("\r\x1b[K")
"""Back to the start of the progress line, cleared: taskyard's own escape sequence."""
TICK_SECONDS = 1.0
STEP_WIDTH = 100
"""The most of a step's instruction shown (a terminal's width cuts it shorter)."""


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("image", help="manage the sandbox image")
    actions = parser.add_subparsers(metavar="ACTION")
    build = actions.add_parser("build", help="build the default sandbox image")
    build.add_argument("--tag", help="image tag (default: the config's sandbox.image)")
    build.add_argument("--host", default="local", help="Docker host to build on (default: local)")
    build.add_argument(
        "--verbose", action="store_true", help="print the whole build log, not the progress"
    )
    build.set_defaults(handler=main)
    parser.set_defaults(handler=lambda _: parser.print_help() or 2)


def main(args: argparse.Namespace) -> int:
    return asyncio.run(with_client(lambda client: build(client, args.tag, args.host, args.verbose)))


class BuildProgress:
    """Step n of m, the current step and the time so far, on one line redrawn in place on a
    terminal (a line per step elsewhere); the last lines of the log are kept for a failure."""

    def __init__(self, out: TextIO, clock: Callable[[], float] = time.monotonic) -> None:
        self.out = out
        self.clock = clock
        self.started = clock()
        self.live = out.isatty()
        self.step = ""
        self.pending = ""
        self.tail: collections.deque[str] = collections.deque(maxlen=TAIL_LINES)

    def feed(self, data: bytes) -> None:
        """Take more of the build log."""
        *lines, self.pending = (self.pending + data.decode("utf-8", errors="replace")).split("\n")
        for line in lines:
            self.tail.append(line)
            if found := STEP.match(line.strip()):
                number, total, instruction = found.groups()
                self.step = (
                    f"step {number}/{total}  {one_line(' '.join(instruction.split()), STEP_WIDTH)}"
                )
                self.show(new_step=True)

    def show(self, new_step: bool = False) -> None:
        """Draw the progress line (on a terminal), or print a new step (elsewhere)."""
        if not self.step or not (self.live or new_step):
            return
        elapsed = f"{int(self.clock() - self.started)}s"
        if not self.live:
            print(f"{self.step}  ({elapsed})", file=self.out, flush=True)
            return
        width = shutil.get_terminal_size().columns - len(elapsed) - 3
        line = self.step if len(self.step) <= width else self.step[: max(width - 1, 0)] + "…"
        self.out.write(REDRAW)
        self.out.write(f"{line}  {elapsed}")
        self.out.flush()

    def finish(self, failed: bool) -> None:
        """Clear the progress line; after a failure, print the build's last lines."""
        if self.live:
            self.out.write(REDRAW)
        lines = [*self.tail, self.pending][-TAIL_LINES:] if self.pending else [*self.tail]
        if failed and lines:
            print(f"the build's last {len(lines)} lines:", file=self.out)
            print("\n".join(lines), file=self.out)
        self.out.flush()

    async def tick(self) -> None:
        """Keep the elapsed time moving while a step runs quietly."""
        while True:
            await asyncio.sleep(TICK_SECONDS)
            self.show()


def write_output(data: bytes) -> None:
    sys.stdout.write(data.decode("utf-8", errors="replace"))
    sys.stdout.flush()


async def build(client: ServiceClient, tag: str | None, host: str, verbose: bool = False) -> int:
    """Build the image on `host` through the service; the whole log with `verbose`."""
    started = time.monotonic()
    if verbose:
        built = await client.build_image(tag, write_output, host)
    else:
        built = await build_with_progress(client, tag, host)
    print(f"built {built} on {host} in {int(time.monotonic() - started)}s")
    return 0


async def build_with_progress(client: ServiceClient, tag: str | None, host: str) -> str:
    progress = BuildProgress(sys.stdout)
    ticking = asyncio.create_task(progress.tick())
    failed = True
    try:
        built = await client.build_image(tag, progress.feed, host)
        failed = False
        return built
    finally:
        ticking.cancel()
        progress.finish(failed)
