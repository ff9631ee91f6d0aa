"""Bad input at the command line gets one clear message and no traceback."""

from __future__ import annotations

import os
import socket
import subprocess
from pathlib import Path

import pytest

from tests.support.cli import run_taskyard
from tests.support.repos import make_calc_repo


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "TASKYARD_"))}
    return {**clean, "TASKYARD_HOME": str(tmp_path / "home"), "OPENAI_API_KEY": "test-key"}


def assert_clean_failure(result: subprocess.CompletedProcess[str], *needles: str) -> None:
    assert result.returncode != 0
    assert "Traceback" not in result.stderr + result.stdout
    for needle in needles:
        assert needle in result.stderr, result.stderr


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_missing_api_key(tmp_path: Path, env: dict[str, str]) -> None:
    del env["OPENAI_API_KEY"]
    repo = make_calc_repo(tmp_path / "calc")
    result = run_taskyard("run", "fix it", "--repo", str(repo), env=env)
    assert_clean_failure(result, "OPENAI_API_KEY", "[model_client] api_key", '"env:NAME"')


def test_docker_not_running(tmp_path: Path, env: dict[str, str]) -> None:
    env["DOCKER_HOST"] = f"unix://{tmp_path}/no-docker.sock"
    repo = make_calc_repo(tmp_path / "calc")
    result = run_taskyard("run", "fix it", "--repo", str(repo), env=env)
    assert_clean_failure(result, "Docker")


def test_unknown_image_is_refused_before_the_task(
    docker_available: None, tmp_path: Path, env: dict[str, str]
) -> None:
    repo = make_calc_repo(tmp_path / "calc")
    result = run_taskyard(
        "run", "fix it", "--repo", str(repo), "--image", "nope/missing:0", env=env
    )
    assert_clean_failure(result, "nope/missing:0", "taskyard image build")


def test_unreachable_model_endpoint_fails_the_task_with_its_record(
    docker_available: None, tmp_path: Path, env: dict[str, str]
) -> None:
    env["OPENAI_BASE_URL"] = f"http://127.0.0.1:{free_port()}/v1"
    env["TASKYARD_WIRE_API"] = "chat"
    (tmp_path / "home" / "config").mkdir(parents=True)
    (tmp_path / "home" / "config" / "config.toml").write_text("[model_client]\nmax_retries = 0\n")
    repo = make_calc_repo(tmp_path / "calc")
    result = run_taskyard("run", "fix it", "--repo", str(repo), env=env)
    assert result.returncode == 1 and "Traceback" not in result.stdout + result.stderr
    assert env["OPENAI_BASE_URL"] in result.stderr
    assert "[model_client] base_url" in result.stderr and "OPENAI_BASE_URL" in result.stderr
    listing = run_taskyard("tasks", env=env)
    assert "failed" in listing.stdout


def test_bad_config_file_names_file_and_key(tmp_path: Path, env: dict[str, str]) -> None:
    config = tmp_path / "home" / "config" / "config.toml"
    config.parent.mkdir(parents=True)
    config.write_text('[environments.web]\nnetwork = "sometimes"\n')
    result = run_taskyard("tasks", env=env)
    assert_clean_failure(result, str(config), "environments.web.network")


def test_bad_wire_api_variable(tmp_path: Path, env: dict[str, str]) -> None:
    env["TASKYARD_WIRE_API"] = "grpc"
    result = run_taskyard("tasks", env=env)
    assert_clean_failure(result, "TASKYARD_WIRE_API", "chat", "responses")


def test_unknown_task_and_environment(tmp_path: Path, env: dict[str, str]) -> None:
    assert_clean_failure(run_taskyard("show", "deadbeef", env=env), "no task 'deadbeef'")
    assert_clean_failure(run_taskyard("apply", "deadbeef", env=env), "no task 'deadbeef'")
    repo = make_calc_repo(tmp_path / "calc")
    result = run_taskyard("run", "x", "--repo", str(repo), "--env", "gpu", env=env)
    assert_clean_failure(result, "unknown environment 'gpu'")


def test_empty_store_lists_nothing(env: dict[str, str]) -> None:
    result = run_taskyard("tasks", env=env)
    assert result.returncode == 0 and "no tasks yet" in result.stdout
