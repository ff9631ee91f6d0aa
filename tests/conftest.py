"""Shared fixtures: an isolated TASKYARD_HOME, real-Docker gating and a real sshd."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.service import stop_services_under
from tests.support.sshd import SshServer, sshd_problem


def _docker_problem() -> str | None:
    """Return why a Docker engine cannot be used, or None when it can."""
    try:
        import docker

        client = docker.from_env(timeout=10)
        client.ping()
        client.close()
    except Exception as error:
        return f"Docker engine not reachable: {error}"
    return None


@pytest.fixture(scope="session")
def docker_available() -> None:
    """Skip locally without Docker; fail under CI=true, where Docker is required."""
    _require("Docker", _docker_problem())


def _require(part: str, problem: str | None) -> None:
    """Skip locally when a real part is missing; fail under CI=true, where it is required."""
    if problem is None:
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"{problem} (CI=true: {part}-backed tests must run)")
    pytest.skip(problem)


@pytest.fixture
def sshd(tmp_path: Path) -> Iterator[SshServer]:
    """A real OpenSSH sshd on 127.0.0.1 with throwaway keys (skip or fail like Docker)."""
    _require("sshd", sshd_problem())
    with SshServer.started(tmp_path / "sshd") as server:
        yield server


@pytest.fixture(scope="session", autouse=True)
def remove_test_containers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """After the session, remove the sandboxes that tasks of this test run left stopped."""
    yield
    if _docker_problem() is not None:
        return
    import docker

    client = docker.from_env(timeout=30)
    root = str(tmp_path_factory.getbasetemp())
    for container in client.containers.list(all=True, filters={"label": "dev.taskyard.home"}):
        if container.labels.get("dev.taskyard.home", "").startswith(root):
            container.remove(force=True)
    client.close()


@pytest.fixture(autouse=True)
def stop_test_services(tmp_path: Path) -> Iterator[None]:
    """After each test, stop the services its commands started under its tmp_path (their
    tasks are left to the session's container cleanup)."""
    yield
    stop_services_under(tmp_path)


@pytest.fixture
def taskyard_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point TASKYARD_HOME at a fresh directory for config and state."""
    home = tmp_path / "taskyard-home"
    home.mkdir()
    monkeypatch.setenv("TASKYARD_HOME", str(home))
    return home
