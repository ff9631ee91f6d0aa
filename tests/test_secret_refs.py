"""Secret references: env:, file:, cmd: and literals resolved on the host; each failure named."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from engine.api import Engine, TaskRequest
from engine.config import Config, ConfigError, Environment, parse_config
from engine.errors import EngineError
from engine.paths import Paths
from engine.secrets import refs as secret_refs
from engine.secrets.refs import SecretReferenceError, resolve_secrets
from engine.secrets.values import Secret
from sandboxes.fake import FakeBackend


def resolve(secrets: dict[str, str]) -> list[Secret]:
    return resolve_secrets("web", Environment(secrets=secrets))


def failure(reference: str) -> str:
    with pytest.raises(SecretReferenceError) as raised:
        resolve({"NPM_TOKEN": reference})
    return str(raised.value)


def test_each_kind_of_reference_and_a_literal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("HOST_NPM_TOKEN", "from-env-1")
    (tmp_path / ".config").mkdir()
    (tmp_path / ".config" / "pypi-token").write_text("from-file-2\n")
    secrets = resolve(
        {
            "NPM": "env:HOST_NPM_TOKEN",
            "PYPI": "file:~/.config/pypi-token",
            "GH": "cmd:printf 'from cmd 3\\n'",
            "PLAIN": "a-literal-value",
        }
    )
    assert secrets == [
        Secret("NPM", "from-env-1"),
        Secret("PYPI", "from-file-2"),
        Secret("GH", "from cmd 3"),
        Secret("PLAIN", "a-literal-value"),
    ]


def test_an_unset_variable_names_the_environment_the_key_and_the_variable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("NPM_TOKEN", raising=False)
    assert failure("env:NPM_TOKEN") == (
        "environment web: secret NPM_TOKEN = env:NPM_TOKEN: "
        "NPM_TOKEN is not set: export it before taskyard starts"
    )


def test_a_missing_or_unreadable_file_is_named(tmp_path: Path) -> None:
    missing = tmp_path / "nope"
    assert failure(f"file:{missing}").endswith(f"= file:{missing}: {missing} does not exist")
    assert "cannot be read" in failure(f"file:{tmp_path}")


def test_a_failing_command_says_how_it_failed() -> None:
    message = failure("cmd:sh -c 'echo not logged in >&2; exit 4'")
    assert message.startswith("environment web: secret NPM_TOKEN = cmd:sh -c")
    assert message.endswith(": the command exited with 4: not logged in")
    assert failure("cmd:no-such-program-here").endswith(
        "no-such-program-here is not installed or not on PATH"
    )
    assert failure('cmd:gh "auth token').endswith(
        "the command cannot be parsed: No closing quotation"
    )


def test_a_command_cannot_wait_on_a_prompt_or_hang(monkeypatch: pytest.MonkeyPatch) -> None:
    prompt = f"cmd:{sys.executable} -c \"import sys; print(sys.stdin.read() or 'no-input')\""
    assert resolve({"K": prompt}) == [Secret("K", "no-input")]
    monkeypatch.setattr(secret_refs, "CMD_TIMEOUT_SECONDS", 0.3)
    assert failure("cmd:sleep 5").endswith("the command did not finish within 0.3s")


def test_a_value_too_short_to_redact_is_refused_without_showing_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SHORT", "ab")
    assert failure("env:SHORT").endswith(
        "the value has 2 characters; secrets need at least 4 "
        "(shorter ones would be redacted from ordinary text)"
    )
    with pytest.raises(ConfigError) as raised:
        parse_config('[environments.web]\nsecrets = { T = "xyz" }', Path("c.toml"))
    assert "key `environments.web.secrets`: secret T is 3 characters long" in str(raised.value)
    assert "xyz" not in str(raised.value)


@pytest.mark.parametrize(
    ("secrets", "needle"),
    [
        ('{ "NPM-TOKEN" = "abcdef" }', "'NPM-TOKEN' is not an environment variable name"),
        ('{ T = "env:" }', "secret T = 'env:' names nothing after the colon"),
        ('{ T = "cmd: " }', "secret T = 'cmd: ' names nothing after the colon"),
    ],
)
def test_bad_secret_entries_are_config_errors(secrets: str, needle: str) -> None:
    with pytest.raises(ConfigError) as raised:
        parse_config(f"[environments.web]\nsecrets = {secrets}", Path("c.toml"))
    assert str(raised.value).startswith("c.toml: key `environments.web.secrets`: ")
    assert needle in str(raised.value)


def test_literal_secrets_do_not_show_in_the_config_repr() -> None:
    environment = Environment(secrets={"T": "a-literal-value"})
    assert "a-literal-value" not in repr(environment)


async def test_an_unresolvable_reference_fails_before_a_task_is_recorded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("NPM_TOKEN", raising=False)
    config = Config.model_validate(
        {"environments": {"web": {"setup": "true", "secrets": {"NPM_TOKEN": "env:NPM_TOKEN"}}}}
    )
    paths = Paths(config_dir=tmp_path / "config", state_dir=tmp_path / "state")
    engine = Engine(paths, config, backend=FakeBackend(tmp_path / "sandboxes"))
    with pytest.raises(EngineError, match="environment web: secret NPM_TOKEN = env:NPM_TOKEN"):
        await engine.preflight(TaskRequest(prompt="x", environment="web"))
    assert engine.tasks() == []
    await engine.close()


async def test_a_reference_that_stops_resolving_fails_the_task_with_the_reason(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("NPM_TOKEN", raising=False)
    monkeypatch.setenv("OPENAI_API_KEY", "test-key")
    config = Config.model_validate(
        {"environments": {"web": {"setup": "true", "secrets": {"NPM_TOKEN": "env:NPM_TOKEN"}}}}
    )
    paths = Paths(config_dir=tmp_path / "config", state_dir=tmp_path / "state")
    engine = Engine(paths, config, backend=FakeBackend(tmp_path / "sandboxes"))
    record = await engine.submit(TaskRequest(prompt="x", environment="web"))
    finished = await engine.wait(record.id)
    assert finished.status == "failed"
    assert finished.error.startswith("environment web: secret NPM_TOKEN = env:NPM_TOKEN: ")
    assert finished.sandbox_id == ""
    await engine.close()
