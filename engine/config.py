"""The TOML config, validated into typed models; env vars override the model settings."""

from __future__ import annotations

import os
import re
import tomllib
from pathlib import Path
from typing import Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from engine.paths import Paths
from engine.secrets.refs import ENV_PREFIX, is_reference
from engine.secrets.values import MIN_SECRET_LENGTH

DEFAULT_IMAGE = "taskyard-sandbox:latest"
_EXAMPLE_URL = "http://localhost:11434/v1"
HIDDEN = "(hidden)"
"""What is shown in place of a secret's literal value."""
DEMO_MODEL = "taskyard-demo"
"""The model name of taskyard's offline demo model (`taskyard demo`): no network, no key."""
CA_ENV_VARS = ("SSL_CERT_FILE", "REQUESTS_CA_BUNDLE", "PIP_CERT", "NODE_EXTRA_CA_CERTS")


class ConfigError(Exception):
    """The config cannot be used; the message names the file, the key and what is wrong."""


class _Section(BaseModel):
    model_config = ConfigDict(
        extra="forbid", use_attribute_docstrings=True, protected_namespaces=()
    )


class AgentSettings(_Section):
    max_turns: int = Field(default=80, ge=1)
    """Model turns before the agent is stopped."""
    max_wall_seconds: float = Field(default=3600.0, gt=0)
    """Wall-clock seconds for the agent phase of one task."""
    max_tokens: int = Field(default=4_000_000, ge=1)
    """Total input+output tokens a task may spend."""
    command_timeout_seconds: float = Field(default=600.0, gt=0)
    """Default timeout of one shell command (the model may ask for less or more via timeout_ms)."""
    max_command_timeout_seconds: float = Field(default=3600.0, gt=0)
    """Upper bound on any command's timeout."""
    setup_timeout_seconds: float = Field(default=1800.0, gt=0)
    """Timeout of the environment's setup script."""
    output_head_lines: int = Field(default=120, ge=1)
    """Lines from the start of a command's output shown to the model."""
    output_tail_lines: int = Field(default=120, ge=1)
    """Lines from the end of a command's output shown to the model."""


def http_url(url: str | None, info: ValidationInfo, example: str = "") -> str | None:
    """An http(s) URL without its trailing slash; ValueError naming the key otherwise."""
    if url is None:
        return None
    if not url.startswith(("https://", "http://")):
        raise ValueError(f"{info.field_name} = {url!r}: use an http(s):// URL{example}")
    return url.rstrip("/")


class ModelConfig(_Section):
    base_url: str | None = None
    """Root of an OpenAI-compatible API (https://HOST/v1: Ollama, vLLM, a proxy); else
    OPENAI_BASE_URL, else OpenAI's."""
    api_key: str | None = Field(default=None, repr=False)
    """Where the API key is read: "env:NAME", "file:PATH" or "cmd:COMMAND" (never the key
    itself); else OPENAI_API_KEY."""
    max_retries: int = Field(default=5, ge=0)
    """Retries on 429, 5xx, connection errors and stalled streams."""
    stream_idle_timeout_seconds: float = Field(default=120.0, gt=0)
    """A stream silent this long is aborted and retried."""
    request_timeout_seconds: float = Field(default=600.0, gt=0)
    """Overall timeout of one model request."""
    input_price_per_million: float | None = Field(default=None, ge=0)
    """US dollars per million input tokens, for cost figures; unset shows none."""
    output_price_per_million: float | None = Field(default=None, ge=0)
    """US dollars per million output tokens, for cost figures; unset shows none."""

    @field_validator("base_url")
    @classmethod
    def _api_root(cls, base_url: str | None, info: ValidationInfo) -> str | None:
        return http_url(base_url, info, f' such as "{_EXAMPLE_URL}"')

    @field_validator("api_key")
    @classmethod
    def _key_reference(cls, api_key: str | None) -> str | None:
        if api_key is None:
            return None
        if not is_reference(api_key):
            raise ValueError(
                'api_key must not hold the key itself: write where to read it, "env:NAME", '
                '"file:PATH" or "cmd:COMMAND" (or leave it out and export OPENAI_API_KEY)'
            )
        if not api_key.partition(":")[2].strip():
            raise ValueError(f'api_key = "{api_key}" names nothing after the colon')
        return api_key

    def cost(self, input_tokens: int, output_tokens: int) -> float | None:
        """Dollars spent on these tokens at these prices; None when unpriced."""
        if self.input_price_per_million is None or self.output_price_per_million is None:
            return None
        spent = input_tokens * self.input_price_per_million
        return (spent + output_tokens * self.output_price_per_million) / 1_000_000


_SIZE = re.compile(r"^(\d+(?:\.\d+)?)([bkmg]?)b?$", re.IGNORECASE)
_SIZE_UNITS = {"": 1, "b": 1, "k": 1024, "m": 1024**2, "g": 1024**3}


def size_bytes(text: str) -> int:
    """Bytes of a Docker-style size such as 512m or 4g; ValueError when it is none."""
    match = _SIZE.match(text.strip())
    if match is None:
        raise ValueError(f"{text!r} is not a size")
    number, unit = match.groups()
    return int(float(number) * _SIZE_UNITS[unit.lower()])


class SandboxSettings(_Section):
    image: str = DEFAULT_IMAGE
    """Default image for tasks whose environment names none."""
    memory: str = "4g"
    """Memory limit per sandbox (Docker syntax: 512m, 4g)."""
    pids_limit: int = Field(default=1024, ge=16)
    """Process limit per sandbox."""
    cpus: float | None = Field(default=None, gt=0)
    """CPU limit per sandbox; by default the host's CPUs less one (at least one). Sandboxes
    also run at a quarter of Docker's default CPU weight, so busy tasks yield to the engine's
    other containers."""
    disk: str | None = None
    """Disk a sandbox may write (Docker syntax: 20g); the storage driver enforces it where it
    can, otherwise the task is stopped past it. Unlimited when unset."""
    disk_check_seconds: float = Field(default=15.0, gt=0)
    """How often a sandbox's written bytes are measured against `disk` when the storage driver
    does not enforce it."""
    runtime: str | None = None
    """Docker runtime for sandboxes, e.g. runsc (gVisor) where it is installed; Docker's
    default when unset."""

    @field_validator("memory", "disk")
    @classmethod
    def _size(cls, text: str | None, info: ValidationInfo) -> str | None:
        if text is not None and _SIZE.match(text.strip()) is None:
            raise ValueError(f'{info.field_name} = "{text}" is not a size: write it like "4g"')
        return text


class GcSettings(_Section):
    keep_hours: float = Field(default=24.0, gt=0)
    """Hours a finished task's container is kept for follow-ups before `taskyard gc` removes
    it; an archived task's goes at once, an active task's never."""


class ServiceSettings(_Section):
    idle_minutes: float = Field(default=15.0, gt=0)
    """Minutes the service keeps running with no active task and no client before it exits."""


class Environment(_Section):
    image: str | None = None
    """Image for this environment; the sandbox default when unset."""
    setup: str = ""
    """Bash script run in the repository before the agent starts, with network on."""
    env: dict[str, str] = Field(default_factory=dict)
    """Environment variables for the whole task."""
    secrets: dict[str, str] = Field(default_factory=dict, repr=False)
    """Variables given to the setup script only, never to the agent: references resolved on
    the host when a task starts (`env:NAME`, `file:PATH`, `cmd:COMMAND`) or literal values."""
    network: Literal["off", "on"] = "off"
    """Network for the agent phase: off (default) or on. Setup always has network."""
    ca_bundle: Path | None = None
    """A CA bundle handed into the sandbox for TLS-intercepting proxies."""
    workdir: str = ""
    """Repository subdirectory the agent starts in."""

    def shown_secrets(self) -> dict[str, str]:
        """The secrets as they may be shown: references as written, literal values hidden."""
        return {
            name: configured if is_reference(configured) else HIDDEN
            for name, configured in self.secrets.items()
        }

    @field_validator("secrets")
    @classmethod
    def _usable_secrets(cls, secrets: dict[str, str]) -> dict[str, str]:
        for name, configured in secrets.items():
            _check_secret(name, configured)
        return secrets


_VARIABLE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def _check_secret(name: str, configured: str) -> None:
    """A secret's name is a variable name; a literal is long enough, a reference names a source."""
    if not _VARIABLE_NAME.match(name):
        raise ValueError(f"secret name {name!r} is not an environment variable name")
    if is_reference(configured):
        if not configured.partition(":")[2].strip():
            raise ValueError(f"secret {name} = {configured!r} names nothing after the colon")
    elif len(configured) < MIN_SECRET_LENGTH:
        raise ValueError(
            f"secret {name} is {len(configured)} characters long: secrets need at least "
            f"{MIN_SECRET_LENGTH} (shorter ones would be redacted from ordinary text)"
        )


DEFAULT_RECONNECT_SECONDS = 120.0
DEFAULT_MAX_TASKS = 8


class HostConfig(_Section):
    ssh: str | None = None
    """A Docker host over SSH: user@host[:port], or a Host alias from ~/.ssh/config."""
    docker: str | None = None
    """A Docker engine on this machine: unix:///path/to/docker.sock."""
    identity_file: Path | None = None
    """Private key for SSH; otherwise the keys ~/.ssh/config and the SSH agent offer."""
    known_hosts: Path | None = None
    """Known hosts file that vouches for the host's key; ~/.ssh/known_hosts by default."""
    max_tasks: int = Field(default=DEFAULT_MAX_TASKS, ge=1)
    """Tasks that run at once on this host; more wait in the queue."""
    reconnect_seconds: float = Field(default=DEFAULT_RECONNECT_SECONDS, gt=0)
    """After an SSH connection drops, how long to keep trying to reach the host again; its
    running tasks carry on when it comes back and fail as "host down" when it does not."""

    @model_validator(mode="after")
    def _one_address(self) -> HostConfig:
        if (self.ssh is None) == (self.docker is None):
            raise ValueError('give exactly one of ssh = "user@host[:port]" or docker = "unix://…"')
        if self.docker is not None and not self.docker.startswith("unix://"):
            raise ValueError(f"docker = {self.docker!r}: use a unix:// socket URL")
        return self


_REPO_PATH = re.compile(r"^[A-Za-z0-9_.-]+(?:/[A-Za-z0-9_.-]+)+$")
_REMOTE_NAME = re.compile(r"^[A-Za-z0-9_.][A-Za-z0-9_./-]*$")


class ForgeConfig(_Section):
    kind: Literal["github", "gitlab"] | None = None
    """github or gitlab; by default gitlab when the remote's host name says gitlab, else github."""
    api_url: str | None = None
    """REST API root, for GitHub Enterprise (https://HOST/api/v3) or a self-hosted GitLab
    (https://HOST/api/v4); https://api.github.com or https://gitlab.com/api/v4 by default."""
    repo: str | None = None
    """The repository pull requests go to, owner/name (GitLab: group/subgroup/name); read from
    the remote's URL by default."""
    remote: str = "origin"
    """The git remote task branches are pushed to."""

    @field_validator("api_url")
    @classmethod
    def _http_url(cls, api_url: str | None, info: ValidationInfo) -> str | None:
        return http_url(api_url, info)

    @field_validator("repo")
    @classmethod
    def _repo_path(cls, repo: str | None) -> str | None:
        if repo is None:
            return None
        path = repo.strip("/").removesuffix(".git")
        if not _REPO_PATH.match(path):
            raise ValueError(f'repo = {repo!r}: write it as "owner/name"')
        return path

    @field_validator("remote")
    @classmethod
    def _remote_name(cls, remote: str) -> str:
        if not _REMOTE_NAME.match(remote):
            raise ValueError(f"remote = {remote!r} is not a git remote name")
        return remote

    @model_validator(mode="after")
    def _github_repo(self) -> ForgeConfig:
        if self.kind == "github" and self.repo is not None and self.repo.count("/") != 1:
            raise ValueError(f'repo = {self.repo!r}: a GitHub repository is "owner/name"')
        return self


class Config(_Section):
    model: str = "gpt-5-codex"
    """Model name (TASKYARD_MODEL overrides)."""
    wire_api: Literal["chat", "responses"] = "responses"
    """OpenAI wire API: chat (Chat Completions) or responses (TASKYARD_WIRE_API overrides)."""
    theme: str = "textual-dark"
    """Theme of the board."""
    model_client: ModelConfig = Field(default_factory=ModelConfig)
    """How the model is reached: endpoint, key, retries and timeouts."""
    agent: AgentSettings = Field(default_factory=AgentSettings)
    """Limits of the agent loop."""
    sandbox: SandboxSettings = Field(default_factory=SandboxSettings)
    """Sandbox defaults."""
    gc: GcSettings = Field(default_factory=GcSettings)
    """What `taskyard gc` keeps: [gc]."""
    service: ServiceSettings = Field(default_factory=ServiceSettings)
    """The background service that runs tasks: [service]."""
    environments: dict[str, Environment] = Field(default_factory=dict)
    """Named environments: [environments.NAME]."""
    keymap: dict[str, str] = Field(default_factory=dict)
    """Binding id -> keys overrides for the board."""
    hosts: dict[str, HostConfig] = Field(default_factory=dict)
    """Docker hosts tasks run on: [hosts.NAME]; `local` exists when a local engine answers."""
    forge: ForgeConfig = Field(default_factory=ForgeConfig)
    """Where pull requests are opened: [forge]."""

    def referenced_variables(self) -> list[str]:
        """The environment variables `env:` references name: the model's key, secrets."""
        references = [self.model_client.api_key or ""]
        references += [ref for env in self.environments.values() for ref in env.secrets.values()]
        return [ref.removeprefix(ENV_PREFIX) for ref in references if ref.startswith(ENV_PREFIX)]

    def environment(self, name: str) -> Environment:
        """The named environment; `default` exists even when not configured."""
        if name in self.environments:
            return self.environments[name]
        if name == "default":
            return Environment()
        known = ", ".join(sorted({"default", *self.environments})) or "default"
        raise ConfigError(f"unknown environment {name!r}: configured ones are {known}")


def _describe(error: ValidationError, source: Path) -> str:
    first = error.errors()[0]
    key = ".".join(str(part) for part in first["loc"]) or "(top level)"
    more = len(error.errors()) - 1
    suffix = f" (and {more} more problem{'s' if more > 1 else ''})" if more else ""
    message = first["msg"].removeprefix("Value error, ")
    return f"{source}: key `{key}`: {message}{suffix}"


def parse_config(text: str, source: Path) -> Config:
    """Validate TOML text into a Config; ConfigError names file, key and problem."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{source}: not valid TOML: {error}") from None
    try:
        return Config.model_validate(data)
    except ValidationError as error:
        raise ConfigError(_describe(error, source)) from None


def _apply_env_overrides(config: Config) -> Config:
    updates: dict[str, str] = {}
    if model := os.environ.get("TASKYARD_MODEL"):
        updates["model"] = model
    if wire_api := os.environ.get("TASKYARD_WIRE_API"):
        if wire_api not in ("chat", "responses"):
            raise ConfigError(
                f"TASKYARD_WIRE_API={wire_api!r} is not a wire API: use `chat` or `responses`"
            )
        updates["wire_api"] = wire_api
    return config.model_copy(update=updates)


def load_config(paths: Paths) -> Config:
    """Read the config file (absent means defaults) and apply env overrides."""
    source = paths.config_file
    try:
        text = source.read_text(encoding="utf-8")
    except FileNotFoundError:
        return _apply_env_overrides(Config())
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(f"{source}: cannot be read: {error}") from None
    return _apply_env_overrides(parse_config(text, source))
