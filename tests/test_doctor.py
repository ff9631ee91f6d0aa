"""`taskyard doctor` as a person runs it: the installed command, a real service, real Docker, a
real sshd and the scripted model server behind a real `GET /models`."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.cli import doctor_env, stop_service
from tests.support.cli import run_doctor as doctor
from tests.support.model_server import ScriptedModelServer
from tests.support.sshd import SshServer

MODEL = "scripted-codex"


@pytest.fixture
def server() -> Iterator[ScriptedModelServer]:
    with ScriptedModelServer(models=[MODEL, "another-model"], api_key="test-key") as started:
        yield started


@pytest.fixture
def env(tmp_path: Path, server: ScriptedModelServer) -> dict[str, str]:
    """A fresh TASKYARD_HOME, no Docker contexts, the scripted model and its key."""
    return doctor_env(tmp_path, server, MODEL)


def write_config(env: dict[str, str], text: str) -> Path:
    path = Path(env["TASKYARD_HOME"]) / "config" / "config.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_all_green_with_docker_the_image_and_the_model(
    docker_available: None, env: dict[str, str], server: ScriptedModelServer
) -> None:
    result, lines = doctor(env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert all(line.startswith("✓") for line in lines.values()), result.stdout
    for step in ("config", "service", "config in use", "local: Docker", "model key"):
        assert step in lines, result.stdout
    assert lines["local: sandbox image"] == "✓ taskyard-sandbox:latest"
    assert lines["model key"] == "✓ from OPENAI_API_KEY"
    assert lines["model endpoint"] == f"✓ {server.base_url} offers {MODEL}"
    assert [h["authorization"] for h in server.model_lists] == ["Bearer test-key"]


def test_docker_unreachable(tmp_path: Path, env: dict[str, str]) -> None:
    write_config(env, f'[hosts.local]\ndocker = "unix://{tmp_path}/no-docker.sock"\n')
    result, lines = doctor(env)
    assert result.returncode == 1
    line = lines["local: socket and Docker"]
    assert line.startswith("✗") and "no-docker.sock" in line and "start the Docker engine" in line


def test_the_key_missing(env: dict[str, str], server: ScriptedModelServer) -> None:
    del env["OPENAI_API_KEY"]
    result, lines = doctor(env)
    assert result.returncode == 1
    assert lines["model key"].startswith("✗ OPENAI_API_KEY is not set")
    assert '[model_client] api_key = "env:NAME"' in lines["model key"]
    assert "model endpoint" not in lines and server.model_lists == []


def test_a_key_reference_that_gives_nothing(env: dict[str, str]) -> None:
    write_config(env, '[model_client]\napi_key = "env:TASKYARD_TEST_NO_SUCH_KEY"\n')
    result, lines = doctor(env)
    assert result.returncode == 1
    assert lines["model key"] == (
        '✗ [model_client] api_key = "env:TASKYARD_TEST_NO_SUCH_KEY": '
        "TASKYARD_TEST_NO_SUCH_KEY is not set: export it before taskyard starts"
    )


def test_the_key_refused_and_the_model_not_offered(env: dict[str, str]) -> None:
    env["OPENAI_API_KEY"] = "wrong-key"
    result, lines = doctor(env)
    assert result.returncode == 1
    assert lines["model endpoint"].startswith("✗") and "rejected the API key" in result.stdout
    assert "[model_client] api_key" in lines["model endpoint"]
    stop_service(env)
    env.update(OPENAI_API_KEY="test-key", TASKYARD_MODEL="gpt-nope")
    result, lines = doctor(env)
    assert (
        lines["model endpoint"].startswith("✗")
        and "does not list model 'gpt-nope'" in (lines["model endpoint"])
    )
    assert "it lists another-model, scripted-codex" in lines["model endpoint"]


def test_the_endpoint_unreachable_names_the_config_key_and_the_variable(
    env: dict[str, str],
) -> None:
    write_config(env, '[model_client]\nbase_url = "http://127.0.0.1:9/v1"\n')
    result, lines = doctor(env)
    assert result.returncode == 1
    line = lines["model endpoint"]
    assert line.startswith("✗ Cannot reach the model endpoint http://127.0.0.1:9/v1")
    assert "[model_client] base_url, else OPENAI_BASE_URL" in line


def test_the_image_missing(docker_available: None, env: dict[str, str]) -> None:
    write_config(env, '[sandbox]\nimage = "taskyard-test/missing:0"\n')
    result, lines = doctor(env)
    assert result.returncode == 1
    assert lines["local: sandbox image"] == (
        "✗ taskyard-test/missing:0 is missing: build it with `taskyard image build --host local`"
    )


def test_a_broken_config_is_reported_and_nothing_else_is_guessed(env: dict[str, str]) -> None:
    path = write_config(env, '[sandbox]\nmemory = "lots"\n')
    result, lines = doctor(env)
    assert result.returncode == 1
    assert list(lines) == ["config", "hosts and model"]
    assert lines["config"].startswith(f"✗ {path}: key `sandbox.memory`")
    assert "`taskyard config edit`" in lines["config"]
    assert not (Path(env["TASKYARD_HOME"]) / "state" / "service" / "service.lock").exists()


def test_a_service_started_with_an_older_config_says_so(env: dict[str, str]) -> None:
    _, lines = doctor(env)
    assert lines["config in use"].startswith("✓")
    write_config(env, "[agent]\nmax_turns = 5\n")
    result, lines = doctor(env)
    assert result.returncode == 1
    assert lines["config in use"].startswith("✗ the running service read an earlier version")
    assert "`taskyard serve stop`" in lines["config in use"]
    stop_service(env)
    _, lines = doctor(env)
    assert lines["config in use"].startswith("✓")


def test_a_service_with_another_environment_says_so(env: dict[str, str]) -> None:
    doctor(env)
    env["OPENAI_API_KEY"] = "another-key"
    result, lines = doctor(env)
    assert result.returncode == 1
    assert lines["service"].startswith("✗ the running service has other values of OPENAI_API_KEY")


def test_an_ssh_host_known_and_reached(
    docker_available: None, env: dict[str, str], sshd: SshServer
) -> None:
    write_config(
        env,
        f'[hosts.remote]\nssh = "{sshd.target}"\nidentity_file = "{sshd.user_key}"\n'
        f'known_hosts = "{sshd.known_hosts}"\n',
    )
    result, lines = doctor(env)
    assert result.returncode == 0, result.stdout
    assert lines["remote: known_hosts"].startswith(f"✓ {sshd.known_hosts} has a key for")
    assert lines["remote: SSH"] == f"✓ {sshd.target}"
    assert lines["remote: sandbox image"] == "✓ taskyard-sandbox:latest"


def test_an_ssh_host_missing_from_known_hosts(tmp_path: Path, env: dict[str, str]) -> None:
    empty = tmp_path / "known_hosts"
    empty.write_text("")
    write_config(env, f'[hosts.remote]\nssh = "root@127.0.0.1:2299"\nknown_hosts = "{empty}"\n')
    result, lines = doctor(env)
    assert result.returncode == 1
    assert lines["remote: known_hosts"] == (
        f"✗ {empty} has no key for [127.0.0.1]:2299: once you have checked its fingerprint, "
        f"trust it: ssh-keyscan -p 2299 127.0.0.1 >> {empty}"
    )


def test_a_key_variable_the_config_names_is_compared_with_the_services(
    env: dict[str, str], server: ScriptedModelServer
) -> None:
    del env["OPENAI_API_KEY"]
    write_config(env, '[model_client]\napi_key = "env:TASKYARD_TEST_MODEL_KEY"\n')
    env["TASKYARD_TEST_MODEL_KEY"] = "test-key"
    result, lines = doctor(env)
    assert lines["service"].startswith("✓") and lines["model endpoint"].startswith("✓")
    assert lines["model key"] == '✓ from [model_client] api_key = "env:TASKYARD_TEST_MODEL_KEY"'
    env["TASKYARD_TEST_MODEL_KEY"] = "a-newer-key"
    result, lines = doctor(env)
    assert result.returncode == 1
    assert lines["service"].startswith(
        "✗ the running service has other values of TASKYARD_TEST_MODEL_KEY than this shell"
    )
