"""`taskyard gc` as a person runs it, on real containers of this store and of another."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from engine.api import Engine
from engine.hosts.gc import HOME_LABEL, TASK_LABEL
from sandboxes.base import SandboxSpec
from sandboxes.docker import DockerBackend, DockerSandbox
from tests.support.board import store_command, store_task, stored_engine
from tests.support.cli import run_taskyard

pytestmark = pytest.mark.docker

BASE_IMAGE = "debian:bookworm-slim"
HOUR = 3600.0
WRITTEN = 2 * 1024 * 1024
"""Bytes the old task's container writes, so its size shows in MiB."""


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "TASKYARD_"))}
    return {**clean, "TASKYARD_HOME": str(tmp_path / "home")}


@pytest.fixture
async def made(docker_available: None) -> AsyncIterator[list[DockerSandbox]]:
    """The containers a test makes, removed after it whatever gc did."""
    containers: list[DockerSandbox] = []
    yield containers
    for box in containers:
        await box.remove()


def store_tasks(engine: Engine) -> None:
    """An old, a recent and an archived ended task, and an active (archived, old) one."""
    now = time.time()
    store_task(engine, "01d00001", updated=now - 30 * HOUR)
    store_task(engine, "4ece0002", status="cancelled", updated=now - HOUR)
    store_task(engine, "a4c00003", archived=True, updated=now - HOUR)
    store_task(engine, "ac710004", status="running", archived=True, updated=now - 100 * HOUR)
    for task_id in ("a4c00003", "ac710004"):
        store_command(engine, task_id, "c1", ["make", "test"], "ok\n")
        (engine.paths.results_dir / f"{task_id}.bundle").write_bytes(b"bundle")


async def labelled(
    backend: DockerBackend, made: list[DockerSandbox], task_id: str, home: Path
) -> str:
    """A running container labelled as task `task_id` of the store at `home`."""
    labels = {TASK_LABEL: task_id, HOME_LABEL: str(home / "state")}
    box = await backend.create(SandboxSpec(image=BASE_IMAGE, labels=labels, network=False))
    made.append(box)
    return box.id


def gc(*args: str, env: dict[str, str]) -> list[str]:
    """The lines `taskyard gc ARGS` printed on stdout; it must succeed."""
    result: subprocess.CompletedProcess[str] = run_taskyard("gc", *args, env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    return result.stdout.splitlines()


def add_unreachable_host(home: Path) -> None:
    config = home / "config" / "config.toml"
    config.write_text(f'[hosts.gone]\ndocker = "unix://{home}/no-docker.sock"\n')


async def existing(backend: DockerBackend, ids: dict[str, str]) -> set[str]:
    """The names in `ids` whose container still exists."""
    present = {info.id for info in await backend.list()}
    return {name for name, container_id in ids.items() if container_id in present}


async def test_gc_removes_old_archived_and_orphan_containers_never_active_or_another_stores(
    tmp_path: Path, env: dict[str, str], made: list[DockerSandbox]
) -> None:
    home, other_home = tmp_path / "home", tmp_path / "other"
    engine = stored_engine(home)
    store_tasks(engine)
    await engine.close()
    backend = DockerBackend()
    ids = {
        "old": await labelled(backend, made, "01d00001", home),
        "recent": await labelled(backend, made, "4ece0002", home),
        "archived": await labelled(backend, made, "a4c00003", home),
        "active": await labelled(backend, made, "ac710004", home),
        "orphan": await labelled(backend, made, "deadbeef", home),
        "other store": await labelled(backend, made, "01d00001", other_home),
    }
    old = await backend.attach(ids["old"])
    await old.write_file("/tmp/written", b"x" * WRITTEN)

    add_unreachable_host(home)
    skipped = run_taskyard("gc", "--dry-run", env=env)
    assert skipped.returncode == 0, skipped.stderr
    assert skipped.stderr.startswith("taskyard: skipped host gone: "), skipped.stderr

    dry = gc("--dry-run", env=env)
    assert dry == skipped.stdout.splitlines()
    assert await existing(backend, ids) == set(ids)
    assert sorted(dry[:-1]) == sorted(
        [
            f"would remove container local {ids['old'][:12]} 01d00001 (ended 30h ago) "
            + dry_size(dry, ids["old"]),
            f"would remove container local {ids['archived'][:12]} a4c00003 (archived) "
            + dry_size(dry, ids["archived"]),
            f"would remove container local {ids['orphan'][:12]} orphan (no task in this store) "
            + dry_size(dry, ids["orphan"]),
        ]
    )
    assert dry_size(dry, ids["old"]).endswith("MiB")
    assert dry[-1].startswith("would free ") and dry[-1].endswith(" MiB")

    removed = gc(env=env)
    assert [line.replace("would remove", "removed") for line in dry[:-1]] == removed[:-1]
    assert removed[-1] == dry[-1].replace("would free", "freed")
    assert await existing(backend, ids) == {"recent", "active", "other store"}
    assert gc(env=env) == ["freed 0 B"]


async def test_gc_all_removes_archived_tasks_logs_and_bundles_but_not_an_active_tasks(
    tmp_path: Path, env: dict[str, str], made: list[DockerSandbox]
) -> None:
    engine = stored_engine(tmp_path / "home")
    store_tasks(engine)
    paths = engine.paths
    await engine.close()
    archived_logs, archived_bundle = (
        paths.logs_dir / "a4c00003",
        paths.results_dir / "a4c00003.bundle",
    )

    assert gc("--all", "--dry-run", env=env) == [
        f"would remove logs of a4c00003 {archived_logs} 3 B",
        f"would remove bundle of a4c00003 {archived_bundle} 6 B",
        "would free 9 B",
    ]
    assert archived_logs.exists() and archived_bundle.exists()
    assert gc("--all", env=env) == [
        f"removed logs of a4c00003 {archived_logs} 3 B",
        f"removed bundle of a4c00003 {archived_bundle} 6 B",
        "freed 9 B",
    ]
    assert not archived_logs.exists() and not archived_bundle.exists()
    assert (paths.logs_dir / "ac710004" / "c1.log").exists()
    assert (paths.results_dir / "ac710004.bundle").exists()


def dry_size(lines: list[str], container_id: str) -> str:
    """The size printed at the end of the line about the container."""
    line = next(line for line in lines if container_id[:12] in line)
    return " ".join(line.split()[-2:])
