"""Config: TOML into typed models, env overrides, one clear message per bad file."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.config import Config, ConfigError, load_config, parse_config
from engine.paths import default_paths


def test_taskyard_home_holds_config_and_state(taskyard_home: Path) -> None:
    paths = default_paths()
    assert paths.config_file == taskyard_home / "config" / "config.toml"
    assert paths.database.is_relative_to(taskyard_home / "state")


def test_missing_file_means_defaults(taskyard_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TASKYARD_MODEL", raising=False)
    monkeypatch.delenv("TASKYARD_WIRE_API", raising=False)
    config = load_config(default_paths())
    assert config == Config()
    assert config.environment("default").network == "off"


def test_environments_and_env_overrides(
    taskyard_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    paths = default_paths()
    paths.config_dir.mkdir(parents=True)
    paths.config_file.write_text(
        'model = "from-file"\nwire_api = "responses"\n'
        '[environments.web]\nimage = "node:20"\nsetup = "npm ci"\nnetwork = "on"\n'
        'env = { A = "1" }\nca_bundle = "/etc/ssl/certs/ca-certificates.crt"\n'
    )
    monkeypatch.setenv("TASKYARD_MODEL", "from-env")
    monkeypatch.setenv("TASKYARD_WIRE_API", "chat")
    config = load_config(paths)
    assert (config.model, config.wire_api) == ("from-env", "chat")
    web = config.environment("web")
    assert (web.image, web.setup, web.network, web.env) == ("node:20", "npm ci", "on", {"A": "1"})
    assert str(web.ca_bundle) == "/etc/ssl/certs/ca-certificates.crt"


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("model = ", "not valid TOML"),
        ('wire_api = "grpc"', "key `wire_api`"),
        ("[agent]\nmax_turns = 0", "key `agent.max_turns`"),
        ("[sandbox]\nunknown = 1", "key `sandbox.unknown`"),
        ('[environments.x]\nnetwork = "maybe"', "key `environments.x.network`"),
        ("[gc]\nkeep_hours = 0", "key `gc.keep_hours`"),
    ],
)
def test_bad_config_names_file_and_key(text: str, needle: str) -> None:
    with pytest.raises(ConfigError) as raised:
        parse_config(text, Path("/cfg/config.toml"))
    assert str(raised.value).startswith("/cfg/config.toml: ")
    assert needle in str(raised.value)


def test_unknown_environment_lists_known_ones() -> None:
    config = parse_config('[environments.web]\nsetup = "true"', Path("c.toml"))
    with pytest.raises(ConfigError, match="configured ones are default, web"):
        config.environment("gpu")


def test_every_setting_is_documented() -> None:
    def undocumented(model: type) -> list[str]:
        missing = []
        for name, field in model.model_fields.items():
            if not field.description:
                missing.append(f"{model.__name__}.{name}")
            annotation = field.annotation
            if isinstance(annotation, type) and hasattr(annotation, "model_fields"):
                missing += undocumented(annotation)
        return missing

    assert undocumented(Config) == []


def test_memory_lots_is_a_config_error_naming_the_file_and_key(
    taskyard_home: Path,
) -> None:
    paths = default_paths()
    paths.config_dir.mkdir(parents=True)
    paths.config_file.write_text('[sandbox]\nmemory = "lots"\n')
    with pytest.raises(ConfigError) as raised:
        load_config(paths)
    assert str(raised.value) == (
        f'{paths.config_file}: key `sandbox.memory`: memory = "lots" is not a size: '
        'write it like "4g"'
    )


@pytest.mark.parametrize("text", ["2g", "512m", "1.5g", "512MB", "100k", "1048576"])
def test_sizes_in_docker_syntax_are_accepted(text: str) -> None:
    config = parse_config(f'[sandbox]\nmemory = "{text}"\ndisk = "{text}"', Path("c.toml"))
    assert (config.sandbox.memory, config.sandbox.disk) == (text, text)


def test_gc_keeps_finished_containers_a_day_unless_configured() -> None:
    assert parse_config("", Path("c.toml")).gc.keep_hours == 24
    assert parse_config("[gc]\nkeep_hours = 2.5", Path("c.toml")).gc.keep_hours == 2.5
