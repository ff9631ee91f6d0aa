"""The client side of the service: the engine's door, reached over the service's socket.

`ServiceClient` has the engine's public methods, all async, with the same arguments, results and
errors (the values are `engine.views`). It imports no model client, Docker or UI code, so a
command that only reads tasks starts as fast as Python does. `service_command` and
`service_pid` are what `taskyard serve` needs to run the service and wait for it to end.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING, Any

from engine.paths import Paths, default_paths
from engine.service import codec
from engine.service.autostart import service_command, start_service
from engine.service.errors import NotRunning, ServiceError
from engine.service.protocol import (
    MAX_MESSAGE_BYTES,
    SERVICE_ENVIRONMENT,
    VERSION,
    ProtocolError,
    differing,
    encode_message,
    environment_fingerprint,
    hello,
    read_message,
    version_mismatch,
)
from engine.service.unix import SocketAddress, lock_path, locking_pid, socket_path
from engine.views.service import ServiceStatus

if TYPE_CHECKING:
    from engine.views.accept import Accepted, AcceptRequest, Choice, Delivery
    from engine.views.diff import FileDiff
    from engine.views.events import Event
    from engine.views.hosts import GcReport, HostCheck, HostStatus
    from engine.views.request import TaskRequest, UncommittedWork
    from engine.views.result import Evidence, RankedAttempt
    from engine.views.task import CommandRecord, TaskRecord

__all__ = [
    "ClientSubscription",
    "NotRunning",
    "ServiceClient",
    "ServiceError",
    "service_command",
    "service_pid",
]


def service_pid(paths: Paths | None = None) -> int | None:
    """The pid of the service running for the state dir; None when none runs."""
    return locking_pid(lock_path(paths or default_paths()))


class ClientSubscription:
    """Events of one subscription, in order; iterate it, close it when done."""

    def __init__(self, client: ServiceClient, number: int, task_id: str | None) -> None:
        self._client = client
        self.number = number
        self.task_id = task_id
        self.queue: asyncio.Queue[Event | None] = asyncio.Queue()

    async def __aiter__(self) -> AsyncIterator[Event]:
        while (event := await self.queue.get()) is not None:
            yield event
        raise ServiceError(self._client.lost_reason())

    def close(self) -> None:
        self._client.unsubscribe(self)


class ServiceClient:
    """One connection to the service."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._reader = reader
        self._writer = writer
        self._ids = itertools.count(1)
        self._waiting: dict[int, asyncio.Future[Any]] = {}
        self._progress: dict[int, Callable[[Any], None]] = {}
        self._subscriptions: dict[int, ClientSubscription] = {}
        self._early: dict[int, list[Event]] = {}
        self._lost: str | None = None
        self._listener: asyncio.Task[None] | None = None
        self.environment_differs: list[str] = []
        """The variables the service reads whose values differ from this process's."""

    @classmethod
    async def connect(
        cls, paths: Paths | None = None, start: bool = True, name: str = "cli"
    ) -> ServiceClient:
        """Connect to the state dir's service; with `start`, start one when none answers."""
        paths = paths or default_paths()
        try:
            return await cls.open(paths, name)
        except NotRunning:
            if not start:
                raise
        return await start_service(paths, lambda: cls.open(paths, name))

    @classmethod
    async def open(cls, paths: Paths, name: str = "cli") -> ServiceClient:
        """Connect to a running service; NotRunning when none answers."""
        path = socket_path(paths)
        try:
            with SocketAddress(path) as address:
                reader, writer = await asyncio.open_unix_connection(
                    address, limit=MAX_MESSAGE_BYTES
                )
        except (FileNotFoundError, ConnectionRefusedError, NotADirectoryError):
            raise NotRunning(f"no taskyard service answers on {path}") from None
        except PermissionError:
            raise ServiceError(
                f"not allowed to connect to {path}: it belongs to another user"
            ) from None
        client = cls(reader, writer)
        await client._greet(name)
        return client

    async def _greet(self, name: str) -> None:
        """Say hello and read the answer; a service that refuses may close before it reads the
        hello, so its answer is read even when sending failed."""
        with contextlib.suppress(ConnectionError):
            self._writer.write(encode_message(hello(name)))
            await self._writer.drain()
        try:
            reply = await read_message(self._reader)
        except ConnectionError as error:
            self._writer.close()
            raise NotRunning(f"the taskyard service went away while greeting: {error}") from None
        except ProtocolError as error:
            raise ServiceError(f"the taskyard service did not greet this client: {error}") from None
        if reply is None:
            self._writer.close()
            raise NotRunning("the taskyard service closed the connection while greeting")
        if "refused" in reply:
            await self.close()
            reason = reply["refused"]
            raise ServiceError(f"the taskyard service refused this client: {reason}")
        version = reply.get("welcome", {}).get("version")
        if version != VERSION:
            await self.close()
            raise ServiceError(version_mismatch(version, "service"))
        theirs = reply["welcome"].get("environment", {})
        ours = environment_fingerprint(os.environ, [*SERVICE_ENVIRONMENT, *theirs])
        self.environment_differs = differing(ours, theirs)
        self._listener = asyncio.create_task(self._listen(), name="taskyard-client")

    async def _listen(self) -> None:
        try:
            while (message := await read_message(self._reader)) is not None:
                self._take(message)
            self._lost = "the taskyard service closed the connection"
        except (ProtocolError, ConnectionError) as error:
            self._lost = f"the connection to the taskyard service broke: {error}"
        finally:
            self._end_all()

    def _take(self, message: dict[str, Any]) -> None:
        if "sub" in message:
            event = codec.decode({"$event": message["event"]})
            subscription = self._subscriptions.get(message["sub"])
            if subscription is None:
                self._early.setdefault(message["sub"], []).append(event)
            else:
                subscription.queue.put_nowait(event)
            return
        if "progress" in message:
            report = self._progress.get(message.get("id", -1))
            if report is not None:
                report(codec.decode(message["progress"]))
            return
        self._progress.pop(message.get("id", -1), None)
        future = self._waiting.pop(message.get("id", -1), None)
        if future is None or future.done():
            return
        if "error" in message:
            future.set_exception(codec.decode_error(message["error"]))
        else:
            future.set_result(codec.decode(message.get("ok")))

    def _end_all(self) -> None:
        error = ServiceError(self.lost_reason())
        for future in self._waiting.values():
            if not future.done():
                future.set_exception(error)
        self._waiting.clear()
        for subscription in self._subscriptions.values():
            subscription.queue.put_nowait(None)

    def lost_reason(self) -> str:
        return self._lost or "the connection to the taskyard service was closed"

    async def call(
        self, method: str, /, progress: Callable[[Any], None] | None = None, **args: Any
    ) -> Any:
        """Call a service method; its result, or the error it raised. `progress` is given what
        the call reports before it answers."""
        if self._lost is not None or self._listener is None:
            raise ServiceError(self.lost_reason())
        call_id = next(self._ids)
        if progress is not None:
            self._progress[call_id] = progress
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._waiting[call_id] = future
        message = {"id": call_id, "call": method, "args": codec.encode(args)}
        try:
            self._writer.write(encode_message(message))
            await self._writer.drain()
        except ConnectionError as error:
            self._waiting.pop(call_id, None)
            raise ServiceError(f"the taskyard service went away: {error}") from None
        return await future

    async def subscribe(self, task_id: str | None = None) -> ClientSubscription:
        """Events from now on, for one task or all."""
        number = int(await self.call("subscribe", task_id=task_id))
        subscription = ClientSubscription(self, number, task_id)
        self._subscriptions[number] = subscription
        for event in self._early.pop(number, []):
            subscription.queue.put_nowait(event)
        return subscription

    def unsubscribe(self, subscription: ClientSubscription) -> None:
        if self._subscriptions.pop(subscription.number, None) is None or self._lost:
            return
        message = {
            "id": next(self._ids),
            "call": "unsubscribe",
            "args": {"sub": subscription.number},
        }
        with contextlib.suppress(ConnectionError, RuntimeError):
            self._writer.write(encode_message(message))

    async def close(self) -> None:
        """Close the connection; the service and its tasks go on."""
        if self._listener is not None:
            self._listener.cancel()
            await asyncio.gather(self._listener, return_exceptions=True)
        self._writer.close()
        with contextlib.suppress(ConnectionError):
            await self._writer.wait_closed()

    async def status(self) -> ServiceStatus:
        result: ServiceStatus = await self.call("status")
        return result

    async def stop(self) -> None:
        """Stop the service; its running tasks go on in their containers."""
        await self.call("stop")

    async def task(self, task_id: str) -> TaskRecord:
        result: TaskRecord = await self.call("task", task_id=task_id)
        return result

    async def tasks(
        self,
        include_archived: bool = False,
        statuses: list[str] | None = None,
        repo: str | None = None,
        limit: int | None = None,
    ) -> list[TaskRecord]:
        result: list[TaskRecord] = await self.call(
            "tasks", include_archived=include_archived, statuses=statuses, repo=repo, limit=limit
        )
        return result

    async def attempts(self, task_id: str) -> list[TaskRecord]:
        result: list[TaskRecord] = await self.call("attempts", task_id=task_id)
        return result

    async def attempt(self, task_id: str, number: int | None = None) -> TaskRecord:
        result: TaskRecord = await self.call("attempt", task_id=task_id, number=number)
        return result

    async def ranked_attempts(self, task_id: str) -> list[RankedAttempt]:
        result: list[RankedAttempt] = await self.call("ranked_attempts", task_id=task_id)
        return result

    async def commands(self, task_id: str) -> list[CommandRecord]:
        result: list[CommandRecord] = await self.call("commands", task_id=task_id)
        return result

    async def evidence(self, task_id: str) -> Evidence:
        result: Evidence = await self.call("evidence", task_id=task_id)
        return result

    async def events(self, task_id: str, until: float | None = None) -> list[Event]:
        result: list[Event] = await self.call("events", task_id=task_id, until=until)
        return result

    async def read_output(self, task_id: str, chunk_id: str) -> bytes:
        result: bytes = await self.call("read_output", task_id=task_id, chunk_id=chunk_id)
        return result

    async def read_file(self, task_id: str, path: str) -> str | None:
        result: str | None = await self.call("read_file", task_id=task_id, path=path)
        return result

    async def result_files(self, task_id: str) -> list[FileDiff]:
        result: list[FileDiff] = await self.call("result_files", task_id=task_id)
        return result

    async def chosen_patch(self, task_id: str, choice: Choice) -> str:
        result: str = await self.call("chosen_patch", task_id=task_id, choice=choice)
        return result

    async def uncommitted(self, repo: str) -> UncommittedWork:
        result: UncommittedWork = await self.call("uncommitted", repo=repo)
        return result

    async def preflight(self, request: TaskRequest) -> None:
        await self.call("preflight", request=request)

    async def submit(self, request: TaskRequest) -> TaskRecord:
        result: TaskRecord = await self.call("submit", request=request)
        return result

    async def submit_attempts(self, request: TaskRequest) -> list[TaskRecord]:
        result: list[TaskRecord] = await self.call("submit_attempts", request=request)
        return result

    async def follow_up(self, task_id: str, prompt: str) -> TaskRecord:
        result: TaskRecord = await self.call("follow_up", task_id=task_id, prompt=prompt)
        return result

    async def send_back(self, task_id: str, rejected: Choice) -> TaskRecord:
        result: TaskRecord = await self.call("send_back", task_id=task_id, rejected=rejected)
        return result

    async def retry(self, task_id: str) -> TaskRecord:
        result: TaskRecord = await self.call("retry", task_id=task_id)
        return result

    async def cancel(self, task_id: str) -> None:
        await self.call("cancel", task_id=task_id)

    async def wait(self, task_id: str) -> TaskRecord:
        result: TaskRecord = await self.call("wait", task_id=task_id)
        return result

    async def archive(self, task_id: str, archived: bool = True) -> None:
        await self.call("archive", task_id=task_id, archived=archived)

    async def accept(self, task_id: str, request: AcceptRequest | None = None) -> Accepted:
        result: Accepted = await self.call("accept", task_id=task_id, request=request)
        return result

    async def open_pull_request(
        self, task_id: str, draft: bool = False, squash: bool = False, allow_unsafe: bool = False
    ) -> Delivery:
        result: Delivery = await self.call(
            "open_pull_request",
            task_id=task_id,
            draft=draft,
            squash=squash,
            allow_unsafe=allow_unsafe,
        )
        return result

    async def cost(self, input_tokens: int, output_tokens: int) -> float | None:
        result: float | None = await self.call(
            "cost", input_tokens=input_tokens, output_tokens=output_tokens
        )
        return result

    async def environments(self) -> list[str]:
        result: list[str] = await self.call("environments")
        return result

    async def host_states(self) -> dict[str, str]:
        result: dict[str, str] = await self.call("host_states")
        return result

    async def host_statuses(self) -> list[HostStatus]:
        result: list[HostStatus] = await self.call("host_statuses")
        return result

    async def check_host(self, name: str) -> list[HostCheck]:
        result: list[HostCheck] = await self.call("check_host", name=name)
        return result

    async def doctor(self) -> list[HostCheck]:
        """The service's side of `taskyard doctor`: config in use, hosts, model."""
        result: list[HostCheck] = await self.call("doctor")
        return result

    async def build_image(
        self, tag: str | None, on_output: Callable[[bytes], None], host: str
    ) -> str:
        """Build the sandbox image (or tag) on a host, its build output given to on_output."""
        result: str = await self.call("build_image", progress=on_output, tag=tag, host=host)
        return result

    async def collect_garbage(self, dry_run: bool = False, with_files: bool = False) -> GcReport:
        result: GcReport = await self.call(
            "collect_garbage", dry_run=dry_run, with_files=with_files
        )
        return result
