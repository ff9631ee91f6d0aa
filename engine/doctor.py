"""What `taskyard doctor` checks in the service, each step passing or saying what to do: the
config the service runs with, every host (its known_hosts entry when reached over SSH, Docker,
the sandbox image) and the model (its key, then `GET /models` at its endpoint)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from engine.config import Config, ConfigError, load_config
from engine.hosts.checks import check_host, known_hosts_check
from engine.hosts.host import Host
from engine.models.base import ModelError, ModelSettings
from engine.models.connection import list_models, resolve_api_key
from engine.models.errors import API_KEY_KEY
from engine.paths import Paths
from engine.views.hosts import HostCheck

MODEL_TIMEOUT_SECONDS = 15.0
"""How long the model endpoint has to answer `GET /models`."""
SHOWN_MODELS = 5
"""How many of the endpoint's models a failed check names."""


def config_in_use(paths: Paths, running: Config) -> HostCheck:
    """Whether the config file still says what the service read when it started."""
    step = "config in use"
    try:
        current = load_config(paths)
    except ConfigError as error:
        return HostCheck(step, False, f"{error} (the service runs with an earlier version)")
    if current != running:
        return HostCheck(
            step,
            False,
            f"the running service read an earlier version of {paths.config_file}: "
            "`taskyard serve stop` (its tasks go on), and the next command reads this one",
        )
    return HostCheck(step, True, f"the service runs with {paths.config_file} as it is now")


async def host_checks(host: Host, image: str) -> list[HostCheck]:
    """known_hosts (SSH hosts), then the connection, Docker and the image, each step named
    after the host."""
    known = await known_hosts_check(host)
    checks = [*([known] if known is not None else []), *await check_host(host, image)]
    return [HostCheck(f"{host.name}: {check.step}", check.ok, check.detail) for check in checks]


async def model_checks(settings: Callable[[], ModelSettings], config: Config) -> list[HostCheck]:
    """The key (where it comes from, never its value), then the endpoint's list of models."""
    reference = config.model_client.api_key
    try:
        resolved = settings()
        resolve_api_key(resolved)
    except ModelError as error:
        return [HostCheck("model key", False, str(error))]
    source = f'{API_KEY_KEY} = "{reference}"' if reference else "OPENAI_API_KEY"
    key = HostCheck("model key", True, f"from {source}")
    try:
        base_url, models = await list_models(resolved, MODEL_TIMEOUT_SECONDS)
    except ModelError as error:
        return [key, HostCheck("model endpoint", False, str(error))]
    return [key, endpoint_check(base_url, models, resolved.model)]


def endpoint_check(base_url: str, models: list[str], model: str) -> HostCheck:
    """Passes when the endpoint lists the configured model, or lists none at all."""
    if not models:
        return HostCheck("model endpoint", True, f"{base_url} answers (it lists no models)")
    if model in models:
        return HostCheck("model endpoint", True, f"{base_url} offers {model}")
    shown = ", ".join(sorted(models)[:SHOWN_MODELS])
    more = f" and {len(models) - SHOWN_MODELS} more" if len(models) > SHOWN_MODELS else ""
    return HostCheck(
        "model endpoint",
        False,
        f"{base_url} does not list model {model!r} (it lists {shown}{more}): set `model` "
        "with `taskyard config edit`, or TASKYARD_MODEL",
    )


async def run_checks(
    hosts: list[Host],
    config: Config,
    settings: Callable[[], ModelSettings],
    in_use: HostCheck | None,
) -> list[HostCheck]:
    """Every check, hosts and model at once; in_use first when the config came from its file."""
    found = await asyncio.gather(
        *(host_checks(host, config.sandbox.image) for host in hosts),
        model_checks(settings, config),
    )
    return [*([in_use] if in_use is not None else []), *(c for checks in found for c in checks)]
