"""The service protocol in-process: typed calls, errors as themselves, events, refusals."""

from __future__ import annotations

import asyncio
import socket
import stat
from pathlib import Path

import pytest

from engine.errors import EngineError
from engine.service import codec
from engine.service.client import NotRunning, ServiceClient, ServiceError
from engine.service.protocol import VERSION, encode_message, read_message
from engine.service.server import Service, _coalesced
from engine.service.unix import socket_path
from engine.views.events import OutputChunk
from engine.views.hosts import GcReport
from engine.views.task import InvalidTransition, TaskRecord, TaskStatus
from tests.support.board import store_task, stored_engine
from tests.support.service import client_of, served


async def test_calls_return_typed_records(tmp_path: Path) -> None:
    engine = stored_engine(tmp_path)
    store_task(engine, "aaaa1111", status=TaskStatus.READY)
    async with client_of(engine) as client:
        tasks = await client.tasks()
        task = await client.task("aaaa")
    assert [t.id for t in tasks] == ["aaaa1111"]
    assert isinstance(task, TaskRecord)
    assert task.status is TaskStatus.READY


async def test_engine_errors_arrive_as_the_same_class(tmp_path: Path) -> None:
    engine = stored_engine(tmp_path)
    async with client_of(engine) as client:
        with pytest.raises(EngineError, match="no task 'zzzz9999'"):
            await client.task("zzzz9999")


async def test_socket_and_directory_are_private(tmp_path: Path) -> None:
    engine = stored_engine(tmp_path)
    async with served(engine):
        path = socket_path(engine.paths)
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
        assert stat.S_ISSOCK(path.stat().st_mode)


async def test_a_stale_socket_file_is_replaced(tmp_path: Path) -> None:
    engine = stored_engine(tmp_path)
    path = socket_path(engine.paths)
    path.parent.mkdir(parents=True)
    with socket.socket(socket.AF_UNIX) as dead:
        dead.bind(str(path))
    assert path.exists()
    with pytest.raises(NotRunning):
        await ServiceClient.open(engine.paths)
    async with client_of(engine) as client:
        assert await client.tasks() == []


async def test_a_client_of_another_version_is_told_so(tmp_path: Path) -> None:
    engine = stored_engine(tmp_path)
    async with served(engine):
        reader, writer = await asyncio.open_unix_connection(str(socket_path(engine.paths)))
        writer.write(encode_message({"hello": {"version": VERSION + 1, "client": "old"}}))
        reply = await read_message(reader)
        writer.close()
    assert reply is not None
    assert f"speaks service protocol {VERSION}" in reply["refused"]
    assert f"the client speaks {VERSION + 1}" in reply["refused"]


async def test_events_reach_every_subscriber(tmp_path: Path) -> None:
    engine = stored_engine(tmp_path)
    store_task(engine, "bbbb2222", status=TaskStatus.READY)
    async with served(engine):
        first = await ServiceClient.open(engine.paths)
        second = await ServiceClient.open(engine.paths)
        subscriptions = [await first.subscribe(), await second.subscribe("bbbb2222")]
        engine.lifecycle.move("bbbb2222", TaskStatus.ACCEPTED)
        await first.archive("bbbb2222")
        seen = [[await asyncio.wait_for(anext(aiter(s)), 5) for _ in "ab"] for s in subscriptions]
        await first.close()
        await second.close()
    for status, archived in seen:
        assert status.type == "task.status" and status.status is TaskStatus.ACCEPTED
        assert archived.type == "task.archived" and archived.archived is True


async def test_a_refused_transition_keeps_its_class(tmp_path: Path) -> None:
    error = codec.decode_error(codec.encode_error(InvalidTransition("ready -> queued")))
    assert isinstance(error, InvalidTransition)
    assert str(error) == "ready -> queued"


def test_only_wire_types_decode() -> None:
    with pytest.raises(codec.CodecError, match="not a type the service protocol carries"):
        codec.decode({"$type": "os:system", "fields": {}})
    with pytest.raises(codec.CodecError):
        codec.encode(object())


def test_output_of_one_command_is_merged_per_subscriber() -> None:
    chunks = [OutputChunk(task_id="t", chunk_id="c1", text=f"{n}\n", ts=n) for n in range(3)]
    other = OutputChunk(task_id="t", chunk_id="c2", text="x")
    messages = _coalesced([(1, chunks[0]), (1, chunks[1]), (2, chunks[2]), (1, other)])
    assert [m["sub"] for m in messages] == [1, 2, 1]
    assert messages[0]["event"]["text"] == "0\n1\n"
    assert messages[0]["event"]["ts"] == 0


async def test_the_connection_lost_fails_pending_calls(tmp_path: Path) -> None:
    engine = stored_engine(tmp_path)
    async with served(engine) as service:
        client = await ServiceClient.open(engine.paths)
        subscription = await client.subscribe()
        service.stop()
        with pytest.raises(ServiceError):
            await asyncio.wait_for(anext(aiter(subscription)), 5)
        with pytest.raises(ServiceError):
            await client.tasks()
        await client.close()


async def test_the_service_collects_garbage_on_its_interval(tmp_path: Path) -> None:
    engine = stored_engine(tmp_path)
    store_task(engine, "cccc3333", status=TaskStatus.READY, archived=True)
    log_dir = engine.paths.logs_dir / "cccc3333"
    log_dir.mkdir(parents=True)
    calls: list[tuple[bool, bool]] = []
    collect = engine.collect_garbage

    async def counted(dry_run: bool = False, with_files: bool = False) -> GcReport:
        calls.append((dry_run, with_files))
        return await collect(dry_run, with_files)

    engine.collect_garbage = counted  # type: ignore[method-assign]
    service = Service(engine, idle_minutes=60, gc_interval=0.05)
    serving = asyncio.create_task(service.run())
    while len(calls) < 2:
        await asyncio.sleep(0.02)
    service.stop()
    await serving
    await engine.close()
    assert calls[:2] == [(False, False), (False, False)]
    assert log_dir.exists(), "hourly gc keeps archived tasks' files (only gc --all removes them)"


async def test_a_client_learns_which_of_its_variables_the_service_lacks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = stored_engine(tmp_path)
    monkeypatch.setenv("OPENAI_API_KEY", "key-the-service-has")
    monkeypatch.delenv("GH_TOKEN", raising=False)
    async with served(engine):
        same = await ServiceClient.open(engine.paths)
        monkeypatch.setenv("OPENAI_API_KEY", "another-key")
        monkeypatch.setenv("GH_TOKEN", "a-token")
        other = await ServiceClient.open(engine.paths)
        await same.close()
        await other.close()
    assert same.environment_differs == []
    assert other.environment_differs == ["OPENAI_API_KEY", "GH_TOKEN"]


async def test_an_image_build_reports_its_output_before_it_answers(tmp_path: Path) -> None:
    engine = stored_engine(tmp_path)
    output: list[bytes] = []
    async with client_of(engine) as client:
        built = await client.build_image("sandbox:test", output.append, "local")
    assert built == "sandbox:test"
    assert output == [b"Successfully tagged sandbox:test\n"]


async def test_a_call_with_arguments_it_does_not_take_is_a_clear_error(tmp_path: Path) -> None:
    engine = stored_engine(tmp_path)
    async with client_of(engine) as client:
        with pytest.raises(EngineError, match="bad arguments to the service's 'tasks'"):
            await client.call("tasks", no_such_argument=True)
        with pytest.raises(EngineError, match="the service has no call 'drop_tables'"):
            await client.call("drop_tables")
