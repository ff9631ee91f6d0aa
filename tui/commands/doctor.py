"""`taskyard doctor`: is everything a task needs in place? One line per check, ✓ or ✗ with what
to do; exit status 0 only when every check passes.

The config file is read here; everything else is checked by the service, through the same call
any client makes. Tasks run in the service, so that is where the answer is true: its
environment (the key, DOCKER_HOST), its hosts and their connections, the config it read when it
started. A service that was started with an older config file or another environment than this
shell's is a check of its own. When the config file is broken the service cannot start, and
every other check depends on the config (which hosts, which image, which endpoint): doctor then
reports the config's error and that the rest was not checked, rather than guessing with a
config no service would run.
"""

from __future__ import annotations

import argparse
import asyncio
from dataclasses import dataclass
from typing import TYPE_CHECKING

from engine.errors import EngineError
from engine.paths import default_paths
from tui.commands.common import environment_note

if TYPE_CHECKING:
    from engine.service.client import ServiceClient


@dataclass(frozen=True)
class Line:
    """One check as printed: what, whether it passed, the details or what to do."""

    step: str
    ok: bool
    detail: str


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "doctor",
        help="check the config, Docker on each host, the sandbox image and the model endpoint",
        description="Check what tasks need: the config file, Docker and the sandbox image on "
        "each host (and the known_hosts entry of each SSH host), the model key and endpoint "
        "(a GET /models). Exits 0 only when every check passes.",
    )
    parser.set_defaults(handler=main)


def main(args: argparse.Namespace) -> int:
    lines = asyncio.run(checks())
    width = max(len(line.step) for line in lines) + 2
    for line in lines:
        print(f"{'✓' if line.ok else '✗'} {line.step:<{width}}{line.detail}")
    return 0 if all(line.ok for line in lines) else 1


async def checks() -> list[Line]:
    """The config file's check, then the service's own and every check it runs."""
    config = config_check()
    if not config.ok:
        rest = "not checked: they need a config the service can start with; fix it first"
        return [config, Line("hosts and model", False, rest)]
    return [config, *await service_checks()]


def config_check() -> Line:
    """Whether the config file (and the variables that override it) can be used."""
    from engine.config import ConfigError, load_config

    path = default_paths().config_file
    try:
        load_config(default_paths())
    except ConfigError as error:
        return Line("config", False, f"{error}: `taskyard config edit` to fix it")
    if not path.exists():
        return Line("config", True, f"{path} does not exist: every setting has its default")
    return Line("config", True, f"{path} is valid")


async def service_checks() -> list[Line]:
    """Reach the service (starting it when none runs), then ask it for its checks."""
    from engine.service.client import ServiceClient

    try:
        client = await ServiceClient.connect()
    except EngineError as error:
        return [Line("service", False, str(error))]
    try:
        return [service_line(client), *await asked(client)]
    finally:
        await client.close()


def service_line(client: ServiceClient) -> Line:
    """The service answers; ✗ when it reads other values of its variables than this shell."""
    if note := environment_note(client.environment_differs):
        return Line("service", False, note)
    return Line("service", True, "answers, with this shell's environment")


async def asked(client: ServiceClient) -> list[Line]:
    try:
        found = await client.doctor()
    except EngineError as error:
        return [Line("service checks", False, str(error))]
    return [Line(check.step, check.ok, check.detail) for check in found]
