"""`[model_client] base_url` and `api_key`: the key read from env:, file: or cmd:, never written in
the config; every message names the config key and the variable that exist."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from engine.api import Engine
from engine.config import ConfigError, parse_config
from engine.models.base import ModelError
from engine.paths import Paths
from sandboxes.fake import FakeBackend
from tests.support.model_server import ScriptedModelServer

SOURCE = Path("/cfg/config.toml")


def engine_with(tmp_path: Path, text: str) -> Engine:
    paths = Paths(config_dir=tmp_path / "config", state_dir=tmp_path / "state")
    config = parse_config(text, SOURCE)
    return Engine(paths, config, backend=FakeBackend(tmp_path / "sandboxes"))


def client_table(api_key: str, base_url: str = "http://127.0.0.1:1/v1") -> str:
    """A [model_client] table; json's string quoting is TOML's."""
    return f"[model_client]\nbase_url = {json.dumps(base_url)}\napi_key = {json.dumps(api_key)}\n"


def test_a_literal_key_is_refused_without_repeating_it() -> None:
    with pytest.raises(ConfigError) as raised:
        parse_config('[model_client]\napi_key = "sk-live-0123456789"\n', SOURCE)
    message = str(raised.value)
    assert message.startswith("/cfg/config.toml: key `model_client.api_key`: ")
    assert '"env:NAME", "file:PATH" or "cmd:COMMAND"' in message
    assert "sk-live" not in message


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ('[model_client]\napi_key = "env:"', "names nothing after the colon"),
        ('[model_client]\nbase_url = "localhost:11434/v1"', "use an http(s):// URL"),
        ("[model_client]\napi_key = 12", "model_client.api_key"),
    ],
)
def test_bad_endpoint_settings_name_the_key(text: str, needle: str) -> None:
    with pytest.raises(ConfigError, match="model_client") as raised:
        parse_config(text, SOURCE)
    assert needle in str(raised.value)


def test_the_base_url_loses_its_trailing_slash() -> None:
    config = parse_config('[model_client]\nbase_url = "http://gpu-box:8000/v1/"', SOURCE)
    assert config.model_client.base_url == "http://gpu-box:8000/v1"


def test_env_reference(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OLLAMA_KEY", "key-from-env")
    monkeypatch.setenv("OPENAI_API_KEY", "not-this-one")
    settings = engine_with(tmp_path, client_table("env:OLLAMA_KEY")).model_settings()
    assert (settings.api_key, settings.base_url) == ("key-from-env", "http://127.0.0.1:1/v1")


def test_file_reference(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    (tmp_path / "model-key").write_text("key-from-file\n")
    settings = engine_with(tmp_path, client_table("file:~/model-key")).model_settings()
    assert settings.api_key == "key-from-file"


def test_cmd_reference(tmp_path: Path) -> None:
    command = f"cmd:{sys.executable} -c \"print('key-from-cmd')\""
    settings = engine_with(tmp_path, client_table(command)).model_settings()
    assert settings.api_key == "key-from-cmd"


def test_without_a_reference_the_openai_variables_apply(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "from-openai-variable")
    settings = engine_with(tmp_path, "").model_settings()
    assert (settings.api_key, settings.base_url) == (None, None)
    engine_with(tmp_path, "").model  # noqa: B018  (made from OPENAI_API_KEY)


@pytest.mark.parametrize(
    ("reference", "needles"),
    [
        ("env:TASKYARD_TEST_UNSET_KEY", ["TASKYARD_TEST_UNSET_KEY is not set"]),
        ("file:/nonexistent/model-key", ["/nonexistent/model-key does not exist"]),
        ("cmd:false", ["the command exited with 1"]),
    ],
)
def test_a_reference_that_gives_no_key_names_the_config_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, reference: str, needles: list[str]
) -> None:
    monkeypatch.delenv("TASKYARD_TEST_UNSET_KEY", raising=False)
    with pytest.raises(ModelError) as raised:
        engine_with(tmp_path, client_table(reference)).model  # noqa: B018
    message = str(raised.value)
    assert message.startswith(f'[model_client] api_key = "{reference}": ')
    for needle in needles:
        assert needle in message


def test_an_empty_key_file_is_no_key(tmp_path: Path) -> None:
    (tmp_path / "empty").write_text("\n")
    with pytest.raises(ModelError, match="it gives an empty value"):
        engine_with(tmp_path, client_table(f"file:{tmp_path / 'empty'}")).model_settings()


def test_no_key_anywhere_names_the_config_key_and_the_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with pytest.raises(ModelError) as raised:
        engine_with(tmp_path, "").model  # noqa: B018
    message = str(raised.value)
    assert "OPENAI_API_KEY is not set" in message
    assert '[model_client] api_key = "env:NAME"' in message


async def test_the_model_is_called_at_the_configured_url_with_the_referenced_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
    (tmp_path / "key").write_text("the-real-key\n")
    with ScriptedModelServer(api_key="the-real-key") as server:
        table = client_table(f"file:{tmp_path / 'key'}", server.base_url)
        engine = engine_with(tmp_path, f'model = "scripted-codex"\n{table}')
        checks = {check.step: check for check in await engine.doctor()}
        await engine.close()
    assert checks["model endpoint"].ok, checks["model endpoint"].detail
    assert checks["model key"].detail == f'from [model_client] api_key = "file:{tmp_path / "key"}"'
    assert [h["authorization"] for h in server.model_lists] == ["Bearer the-real-key"]
