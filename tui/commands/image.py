"""`taskyard image build`: build the default sandbox image."""

from __future__ import annotations

import argparse
import asyncio
import sys

from engine.service.client import ServiceClient
from tui.commands.common import with_client


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("image", help="manage the sandbox image")
    actions = parser.add_subparsers(metavar="ACTION")
    build = actions.add_parser("build", help="build the default sandbox image")
    build.add_argument("--tag", help="image tag (default: the config's sandbox.image)")
    build.add_argument("--host", default="local", help="Docker host to build on (default: local)")
    build.set_defaults(handler=main)
    parser.set_defaults(handler=lambda _: parser.print_help() or 2)


def main(args: argparse.Namespace) -> int:
    return asyncio.run(with_client(lambda client: build(client, args.tag, args.host)))


def write_output(data: bytes) -> None:
    sys.stdout.write(data.decode("utf-8", errors="replace"))
    sys.stdout.flush()


async def build(client: ServiceClient, tag: str | None, host: str) -> int:
    built = await client.build_image(tag, write_output, host)
    print(f"\nbuilt {built} on {host}")
    return 0
