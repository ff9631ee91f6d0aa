"""The service: one engine that owns every task, and the clients that talk to it.

It listens on a Unix socket that only its own uid may use, answers calls from CALLS, streams
events to subscribers, collects garbage hourly, and exits after `idle_minutes` with no active
task and no client. Stopping it never cancels a task: the tasks' containers go on, and the next
service takes them up again.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
import os
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from engine.api import Engine
from engine.errors import EngineError
from engine.record.bus import Subscription
from engine.service import codec
from engine.service.protocol import (
    MAX_MESSAGE_BYTES,
    SERVICE_ENVIRONMENT,
    VERSION,
    ProtocolError,
    encode_message,
    environment_fingerprint,
    read_message,
    version_mismatch,
)
from engine.service.unix import SocketAddress, log_path, peer_uid, private_dir
from engine.service.unix import socket_path as service_socket
from engine.views.events import Event, OutputChunk
from engine.views.service import ServiceStatus

log = logging.getLogger("taskyard.service")

GC_INTERVAL_SECONDS = 3600.0
IDLE_CHECK_SECONDS = 5.0

CALLS: dict[str, Callable[..., Any]] = {
    name: getattr(Engine, name)
    for name in (
        "accept",
        "archive",
        "attempt",
        "attempts",
        "cancel",
        "check_host",
        "chosen_patch",
        "collect_garbage",
        "commands",
        "cost",
        "doctor",
        "environments",
        "events",
        "evidence",
        "follow_up",
        "host_states",
        "host_statuses",
        "open_pull_request",
        "preflight",
        "ranked_attempts",
        "read_file",
        "read_output",
        "result_files",
        "retry",
        "send_back",
        "submit",
        "submit_attempts",
        "task",
        "tasks",
        "uncommitted",
        "wait",
    )
}
"""The engine methods a client may call, by name."""
SIGNATURES = {name: inspect.signature(method) for name, method in CALLS.items()}
"""Each call's parameters, to refuse arguments it does not take before calling it."""


@dataclass
class _Calls:
    """What one connection has asked for and not yet been answered."""

    pending: set[asyncio.Task[None]]
    subscriptions: dict[int, tuple[Subscription, asyncio.Task[None]]]


class Session:
    """One client connection: its calls, its subscriptions and its ordered outgoing messages."""

    def __init__(
        self, service: Service, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        self._service = service
        self._reader = reader
        self._writer = writer
        self._outgoing: asyncio.Queue[dict[str, Any] | tuple[int, Event]] = asyncio.Queue()
        self._calls = _Calls(set(), {})

    async def run(self) -> None:
        """Answer calls until the client goes; then drop what it asked for."""
        sender = asyncio.create_task(self._send_all())
        try:
            while (message := await read_message(self._reader)) is not None:
                self._start_call(message)
        except (ProtocolError, ConnectionError) as error:
            log.info("client dropped: %s", error)
        finally:
            await self._close(sender)

    def _start_call(self, message: dict[str, Any]) -> None:
        call = asyncio.create_task(self._answer(message))
        self._calls.pending.add(call)
        call.add_done_callback(self._calls.pending.discard)

    async def _answer(self, message: dict[str, Any]) -> None:
        call_id = message.get("id")
        try:
            name, args = str(message.get("call")), message.get("args") or {}
            if name == "build_image":
                result = await self._build_image(call_id, codec.decode(args))
            else:
                result = await self._dispatch(name, args)
            self._outgoing.put_nowait({"id": call_id, "ok": codec.encode(result)})
        except Exception as error:
            self._outgoing.put_nowait({"id": call_id, "error": self._service.error_of(error)})

    async def _dispatch(self, name: str, args: dict[str, Any]) -> Any:
        arguments = codec.decode(args)
        if name == "subscribe":
            return self._subscribe(arguments.get("task_id"))
        if name == "unsubscribe":
            return self._unsubscribe(int(arguments["sub"]))
        if name in ("status", "stop"):
            return self._service.status() if name == "status" else self._service.stop()
        method = CALLS.get(name)
        if method is None:
            raise EngineError(f"the service has no call {name!r}: is the client of this version?")
        try:
            SIGNATURES[name].bind(self._service.engine, **arguments)
        except TypeError as error:
            raise EngineError(f"bad arguments to the service's {name!r}: {error}") from None
        result = method(self._service.engine, **arguments)
        return await result if inspect.isawaitable(result) else result

    async def _build_image(self, call_id: object, args: dict[str, Any]) -> str:
        """Build an image, its build output sent as `progress` messages of the call."""

        def progress(data: bytes) -> None:
            self._outgoing.put_nowait({"id": call_id, "progress": codec.encode(data)})

        return await self._service.engine.build_image(args.get("tag"), progress, args["host"])

    def _subscribe(self, task_id: str | None) -> int:
        subscription = self._service.engine.subscribe(task_id)
        number = id(subscription)
        pump = asyncio.create_task(self._pump(number, subscription))
        self._calls.subscriptions[number] = (subscription, pump)
        return number

    def _unsubscribe(self, number: int) -> None:
        subscription, pump = self._calls.subscriptions.pop(number, (None, None))
        if subscription is not None and pump is not None:
            subscription.close()
            pump.cancel()

    async def _pump(self, number: int, subscription: Subscription) -> None:
        async for event in subscription:
            self._outgoing.put_nowait((number, event))

    async def _send_all(self) -> None:
        while True:
            batch = [await self._outgoing.get()]
            while not self._outgoing.empty():
                batch.append(self._outgoing.get_nowait())
            self._writer.write(b"".join(encode_message(m) for m in _coalesced(batch)))
            await self._writer.drain()

    async def hang_up(self, grace: float = 2.0) -> None:
        """Send what is queued (within `grace` seconds), then end the connection."""
        deadline = time.monotonic() + grace
        while not self._outgoing.empty() and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        with contextlib.suppress(ConnectionError, TimeoutError):
            await asyncio.wait_for(self._writer.drain(), max(0.0, deadline - time.monotonic()))
        self._writer.close()

    async def _close(self, sender: asyncio.Task[None]) -> None:
        for number in list(self._calls.subscriptions):
            self._unsubscribe(number)
        for call in list(self._calls.pending):
            call.cancel()
        sender.cancel()
        await asyncio.gather(sender, *self._calls.pending, return_exceptions=True)
        self._writer.close()
        with contextlib.suppress(ConnectionError):
            await self._writer.wait_closed()


def _coalesced(batch: list[dict[str, Any] | tuple[int, Event]]) -> list[dict[str, Any]]:
    """The batch as messages, consecutive output of one command to one subscription merged."""
    messages: list[dict[str, Any]] = []
    last: tuple[int, OutputChunk] | None = None
    for item in batch:
        if isinstance(item, dict):
            messages.append(item)
            last = None
            continue
        number, event = item
        if isinstance(event, OutputChunk) and last is not None and _same_run(last, number, event):
            merged = OutputChunk(
                task_id=event.task_id,
                chunk_id=event.chunk_id,
                text=last[1].text + event.text,
                offset=last[1].offset,
                ts=last[1].ts,
            )
            messages[-1] = {"sub": number, "event": merged.to_dict()}
            last = (number, merged)
            continue
        messages.append({"sub": number, "event": event.to_dict()})
        last = (number, event) if isinstance(event, OutputChunk) else None
    return messages


def _same_run(last: tuple[int, OutputChunk], number: int, event: OutputChunk) -> bool:
    return (
        last[0] == number
        and last[1].task_id == event.task_id
        and (last[1].chunk_id == event.chunk_id)
    )


class Service:
    """Serves one engine on the state dir's socket until stopped or idle."""

    def __init__(
        self,
        engine: Engine,
        idle_minutes: float | None = None,
        gc_interval: float = GC_INTERVAL_SECONDS,
    ) -> None:
        self.engine = engine
        self.paths = engine.paths
        minutes = engine.config.service.idle_minutes if idle_minutes is None else idle_minutes
        self._idle_seconds = minutes * 60
        self._gc_interval = gc_interval
        self._sessions: dict[asyncio.Task[None], Session | None] = {}
        """Each connected client's handler task and its session, once greeted."""
        self._stopping = asyncio.Event()
        self._started = time.time()
        self._last_busy = time.monotonic()
        variables = [*SERVICE_ENVIRONMENT, *engine.config.referenced_variables()]
        self._environment = environment_fingerprint(os.environ, variables)

    async def run(self, ready: Callable[[], None] | None = None, take_up: bool = False) -> None:
        """Listen and serve until stopped or idle; the engine and its tasks are left as they
        are (the caller closes or abandons it).

        With `take_up`, every active task of another owner is taken up first: the caller holds
        the state dir's service lock, so any other owner is a service that died."""
        private_dir(self.paths)
        if take_up:
            taken = await self.engine.resume_tasks(stale_after=0.0)
            log.info("took up %d tasks left active: %s", len(taken), " ".join(taken) or "-")
        path = service_socket(self.paths)
        path.unlink(missing_ok=True)
        with SocketAddress(path) as address:
            old_mask = os.umask(0o177)
            try:
                server = await asyncio.start_unix_server(
                    self._connected, address, limit=MAX_MESSAGE_BYTES
                )
            finally:
                os.umask(old_mask)
        path.chmod(0o600)
        background = [
            asyncio.create_task(self._watch_idle()),
            asyncio.create_task(self._collect_hourly()),
        ]
        log.info("service %s listening on %s (protocol %s)", os.getpid(), path, VERSION)
        if ready is not None:
            ready()
        try:
            await self._stopping.wait()
        finally:
            await self._shut_down(server, background)

    async def _shut_down(
        self, server: asyncio.Server, background: list[asyncio.Task[None]]
    ) -> None:
        server.close()
        service_socket(self.paths).unlink(missing_ok=True)
        for task in background:
            task.cancel()
        await asyncio.gather(
            *(session.hang_up() for session in self._sessions.values() if session is not None)
        )
        for task, session in self._sessions.items():
            if session is None:
                task.cancel()
        await asyncio.gather(*background, *self._sessions, return_exceptions=True)

    async def _connected(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._sessions[task] = None
        try:
            if await self._greet(reader, writer):
                session = self._sessions[task] = Session(self, reader, writer)
                await session.run()
        finally:
            self._sessions.pop(task, None)
            self._last_busy = time.monotonic()

    async def _greet(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
        """Read the hello, then check the peer's uid and protocol version; tell it why when it
        is refused (after its hello, so it reads the answer instead of a reset)."""
        try:
            hello = await asyncio.wait_for(read_message(reader), timeout=10)
        except (TimeoutError, ProtocolError, ConnectionError):
            hello = None
        uid = peer_uid(writer.get_extra_info("socket"))
        if uid != os.getuid():
            log.warning("refused a client of uid %s", uid)
            return await self._refuse(writer, f"the service accepts only uid {os.getuid()}")
        version = (hello or {}).get("hello", {}).get("version")
        if version != VERSION:
            return await self._refuse(writer, version_mismatch(version, "client"))
        welcome = {
            "welcome": {"version": VERSION, "pid": os.getpid(), "environment": self._environment}
        }
        writer.write(encode_message(welcome))
        await writer.drain()
        return True

    @staticmethod
    async def _refuse(writer: asyncio.StreamWriter, reason: str) -> bool:
        writer.write(encode_message({"refused": reason, "version": VERSION}))
        with contextlib.suppress(ConnectionError):
            await writer.drain()
        writer.close()
        return False

    def error_of(self, error: Exception) -> dict[str, Any]:
        """An error as the client raises it: engine errors as themselves, anything else as an
        internal error whose traceback is in the service's log."""
        with contextlib.suppress(codec.CodecError):
            return codec.encode_error(error)
        if isinstance(error, EngineError):
            return codec.encode_error(EngineError(str(error)))
        log.exception("internal error answering a call", exc_info=error)
        message = (
            f"internal error in the taskyard service: {type(error).__name__}: {error} "
            f"(details in {log_path(self.paths)})"
        )
        return codec.encode_error(EngineError(message))

    def status(self) -> ServiceStatus:
        return ServiceStatus(
            pid=os.getpid(),
            version=VERSION,
            started=self._started,
            uptime_seconds=time.time() - self._started,
            socket=str(service_socket(self.paths)),
            active_tasks=sorted(self.engine.running_tasks()),
            clients=len(self._sessions),
            log=str(log_path(self.paths)),
        )

    def stop(self) -> None:
        """Stop serving; running tasks are left to go on and are taken up by the next service."""
        self._stopping.set()

    async def _watch_idle(self) -> None:
        while True:
            await asyncio.sleep(min(IDLE_CHECK_SECONDS, self._idle_seconds))
            if self._sessions or self.engine.running_tasks():
                self._last_busy = time.monotonic()
            elif time.monotonic() - self._last_busy >= self._idle_seconds:
                log.info("idle for %.0f s with no task and no client: exiting", self._idle_seconds)
                self.stop()

    async def _collect_hourly(self) -> None:
        while True:
            await asyncio.sleep(self._gc_interval)
            try:
                report = await self.engine.collect_garbage()
            except Exception:
                log.exception("hourly garbage collection failed")
                continue
            log.info(
                "hourly gc: %d containers, %d files removed, %d bytes freed, %d failures",
                len(report.containers),
                len(report.files),
                report.freed,
                len(report.failures),
            )


def stop_on_signals(service: Service) -> None:
    """SIGTERM, SIGINT and SIGHUP stop the service the way `taskyard serve stop` does."""
    loop = asyncio.get_running_loop()
    for number in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        loop.add_signal_handler(number, service.stop)
