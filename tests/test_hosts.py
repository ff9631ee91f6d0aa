"""Hosts from the config, Docker contexts and the default; the pool that places tasks on them."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from engine.config import parse_config
from engine.hosts.host import Host, HostError, HostSpec, docker_contexts, host_specs
from engine.hosts.pool import DOWN_RETRY_SECONDS, HostPool
from sandboxes.fake import FakeBackend


def write_context(config_dir: Path, key: str, name: str, endpoint: object) -> None:
    meta = config_dir / "contexts" / "meta" / key / "meta.json"
    meta.parent.mkdir(parents=True)
    meta.write_text(json.dumps({"Name": name, "Endpoints": {"docker": {"Host": endpoint}}}))


def test_hosts_come_from_config_then_contexts_then_local(tmp_path: Path) -> None:
    config = parse_config(
        '[hosts.build]\nssh = "root@build-box:2222"\nmax_tasks = 3\nidentity_file = "~/.ssh/b"\n'
        '[hosts.sock]\ndocker = "unix:///run/other.sock"\n',
        tmp_path / "config.toml",
    )
    write_context(tmp_path, "a1", "remote", "ssh://ci@10.0.0.5")
    write_context(tmp_path, "a2", "build", "ssh://shadowed@nowhere")
    write_context(tmp_path, "a3", "tcp", "tcp://10.0.0.6:2375")
    write_context(tmp_path, "a4", "rootless", "unix:///run/user/1000/docker.sock")
    (tmp_path / "contexts" / "meta" / "bad").mkdir()
    (tmp_path / "contexts" / "meta" / "bad" / "meta.json").write_text("{not json")

    specs = host_specs(config, tmp_path)

    assert [(s.name, s.kind, s.address, s.origin) for s in specs] == [
        ("build", "ssh", "root@build-box:2222", "config"),
        ("sock", "docker", "unix:///run/other.sock", "config"),
        ("remote", "ssh", "ci@10.0.0.5", "docker context"),
        ("rootless", "docker", "unix:///run/user/1000/docker.sock", "docker context"),
        ("local", "docker", "", "default"),
    ]
    assert specs[0].max_tasks == 3 and specs[0].identity_file == Path("~/.ssh/b")


def test_a_configured_local_replaces_the_default(tmp_path: Path) -> None:
    config = parse_config(
        '[hosts.local]\ndocker = "unix:///var/run/docker.sock"\nmax_tasks = 2\n',
        tmp_path / "c.toml",
    )
    specs = host_specs(config, tmp_path)
    assert [(s.name, s.max_tasks, s.origin) for s in specs] == [("local", 2, "config")]


def test_docker_contexts_without_a_contexts_dir(tmp_path: Path) -> None:
    assert docker_contexts(tmp_path / "missing") == []


def fake_host(name: str, max_tasks: int, tmp_path: Path, available: bool = True) -> Host:
    backend = FakeBackend(tmp_path / name, available=available)
    return Host(HostSpec(name, "docker", f"fake://{name}", max_tasks), backend)


async def test_tasks_spread_by_free_share_and_queue_in_order(tmp_path: Path) -> None:
    pool = HostPool([fake_host("a", 2, tmp_path), fake_host("b", 1, tmp_path)])
    placed = [(await pool.place(f"t{n}"))[0].name for n in range(3)]
    assert sorted(placed) == ["a", "a", "b"]

    waiting = [asyncio.create_task(pool.place(f"w{n}")) for n in range(2)]
    await asyncio.sleep(0)
    assert pool.queued() == 2 and not any(task.done() for task in waiting)

    pool.release("t0")
    first, _backend = await asyncio.wait_for(waiting[0], 1)
    assert first.name == placed[0] and not waiting[1].done()
    pool.release(f"t{placed.index('b')}")
    second, _backend = await asyncio.wait_for(waiting[1], 1)
    assert second.name == "b" and pool.queued() == 0


async def test_a_pinned_task_waits_for_its_host(tmp_path: Path) -> None:
    pool = HostPool([fake_host("a", 1, tmp_path), fake_host("b", 1, tmp_path)])
    await pool.place("t1", "a")
    pinned = asyncio.create_task(pool.place("t2", "a"))
    other, _ = await pool.place("t3")
    await asyncio.sleep(0)
    assert other.name == "b" and not pinned.done() and pool.queued("a") == 1
    pool.release("t1")
    host, _ = await asyncio.wait_for(pinned, 1)
    assert host.name == "a"


async def test_an_unreachable_host_is_skipped_and_named(tmp_path: Path) -> None:
    now = [0.0]
    down, up = fake_host("down", 4, tmp_path, available=False), fake_host("up", 1, tmp_path)
    pool = HostPool([down, up], clock=lambda: now[0])
    host, _ = await pool.place("t1")
    assert host.name == "up" and down.state == "down"
    with pytest.raises(HostError, match="host down"):
        await pool.place("t2", "down")
    waiting = asyncio.create_task(pool.place("t3"))
    await asyncio.sleep(0)
    assert not waiting.done() and pool.queued() == 1
    pool.release("t1")
    host, _ = await asyncio.wait_for(waiting, 1)
    assert host.name == "up"

    now[0] += DOWN_RETRY_SECONDS
    assert down in pool._candidates(None)


async def test_no_reachable_host_fails_with_each_reason(tmp_path: Path) -> None:
    pool = HostPool([fake_host("a", 1, tmp_path, False), fake_host("b", 1, tmp_path, False)])
    with pytest.raises(HostError, match=r"host b \(fake://b\)"):
        await pool.place("t1")
    with pytest.raises(HostError, match=r"no Docker host can take tasks now \(a: .*; b: "):
        await pool.place("t2")


async def test_unknown_host_names_the_known_ones(tmp_path: Path) -> None:
    pool = HostPool([fake_host("a", 1, tmp_path)])
    with pytest.raises(HostError, match=r"unknown host 'x': known hosts are a"):
        await pool.place("t1", "x")


async def test_cancelled_waiter_leaves_the_queue(tmp_path: Path) -> None:
    pool = HostPool([fake_host("a", 1, tmp_path)])
    await pool.place("t1")
    waiting = asyncio.create_task(pool.place("t2"))
    await asyncio.sleep(0)
    waiting.cancel()
    await asyncio.gather(waiting, return_exceptions=True)
    assert pool.queued() == 0
    pool.release("t1")
    host, _ = await pool.place("t3")
    assert host.running == {"t3"}
