"""The shared retry policy, on both wire APIs, against the scripted server."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from engine.models import make_model_client
from engine.models.base import ModelError, ModelSettings, RetryNotice, UserMessage
from engine.models.retry import MAX_SERVER_DELAY, backoff_delay, server_retry_delay
from engine.models.streaming import StreamingModelClient
from tests.support.model_server import (
    Fail,
    Reply,
    ScriptedModelServer,
    Stall,
    Trickle,
    WireApi,
    fast_settings,
)

WIRE_APIS: list[WireApi] = ["chat", "responses"]


@pytest.fixture(params=WIRE_APIS)
def wire_api(request: pytest.FixtureRequest) -> WireApi:
    wire: WireApi = request.param
    return wire


@pytest.fixture
def server() -> Iterator[ScriptedModelServer]:
    with ScriptedModelServer() as running:
        yield running


async def ask(settings: ModelSettings, notices: list[RetryNotice] | None = None) -> str:
    """One turn with a fresh client; the reply text."""
    client = make_model_client(settings)
    assert isinstance(client, StreamingModelClient)
    try:
        on_retry = notices.append if notices is not None else None
        reply = await client.complete("", [UserMessage("go")], [], on_retry=on_retry)
    finally:
        await client.aclose()
    return reply.message.text


async def failure_of(settings: ModelSettings, notices: list[RetryNotice] | None = None) -> str:
    with pytest.raises(ModelError) as failure:
        await ask(settings, notices)
    assert failure.value.__cause__ is None
    assert failure.value.__suppress_context__
    return str(failure.value)


async def test_429_honours_retry_after(server: ScriptedModelServer, wire_api: WireApi) -> None:
    server.add(Fail(429, retry_after=0.05, message="Rate limit reached"), Reply("made it"))
    notices: list[RetryNotice] = []

    text = await ask(fast_settings(server, wire_api, retry_initial_delay=5.0), notices)

    assert text == "made it"
    assert notices == [RetryNotice(1, 0.05, "HTTP 429: Rate limit reached")]
    assert len(server.requests) == 2


async def test_server_errors_are_retried_with_backoff(
    server: ScriptedModelServer, wire_api: WireApi
) -> None:
    server.add(Fail(500), Fail(503, message="overloaded"), Reply("recovered"))
    notices: list[RetryNotice] = []

    text = await ask(fast_settings(server, wire_api, retry_initial_delay=0.02), notices)

    assert text == "recovered"
    assert [notice.attempt for notice in notices] == [1, 2]
    assert [notice.reason for notice in notices] == [
        "HTTP 500: scripted failure",
        "HTTP 503: overloaded",
    ]
    assert 0.015 <= notices[0].delay <= 0.02
    assert 0.03 <= notices[1].delay <= 0.04


async def test_stalled_stream_times_out_and_is_retried(
    server: ScriptedModelServer, wire_api: WireApi
) -> None:
    server.add(Stall(30), Reply("second try"))
    notices: list[RetryNotice] = []

    text = await ask(fast_settings(server, wire_api, stream_idle_timeout=0.2), notices)

    assert text == "second try"
    assert [notice.reason for notice in notices] == ["the stream sent nothing for 0.2s"]


async def test_stream_that_ends_early_is_retried(
    server: ScriptedModelServer, wire_api: WireApi
) -> None:
    server.add(Stall(0), Reply("complete"))
    notices: list[RetryNotice] = []

    text = await ask(fast_settings(server, wire_api), notices)

    assert text == "complete"
    assert len(notices) == 1
    assert "before" in notices[0].reason


async def test_stall_that_never_recovers_names_the_stall(
    server: ScriptedModelServer, wire_api: WireApi
) -> None:
    server.add(Stall(30), Stall(30))
    settings = fast_settings(server, wire_api, max_retries=1, stream_idle_timeout=0.1)

    message = await failure_of(settings)

    assert "stalled" in message
    assert "2 attempts" in message
    assert "[model_client] stream_idle_timeout_seconds" in message


async def test_a_trickling_model_stream_is_ended_by_request_timeout_seconds(
    server: ScriptedModelServer, wire_api: WireApi
) -> None:
    server.add(Trickle(0.05), Trickle(0.05))
    settings = fast_settings(
        server, wire_api, max_retries=1, stream_idle_timeout=5.0, request_timeout=0.5
    )
    notices: list[RetryNotice] = []

    async with asyncio.timeout(30):
        message = await failure_of(settings, notices)

    assert "did not finish within [model_client] request_timeout_seconds = 0.5" in message
    assert "2 attempts" in message
    assert [notice.reason for notice in notices] == ["the request took longer than 0.5s"]


async def test_persistent_server_errors_give_up_after_max_retries(
    server: ScriptedModelServer, wire_api: WireApi
) -> None:
    server.add(Fail(502), Fail(502), Fail(500, message="upstream exploded"))
    notices: list[RetryNotice] = []

    message = await failure_of(fast_settings(server, wire_api, max_retries=2), notices)

    assert len(notices) == 2
    assert len(server.requests) == 3
    assert "3 attempts" in message
    assert "HTTP 500: upstream exploded" in message
    assert server.base_url in message


async def test_exhausted_script_is_visible_in_the_error(
    server: ScriptedModelServer, wire_api: WireApi
) -> None:
    message = await failure_of(fast_settings(server, wire_api, max_retries=0))

    assert "script exhausted at request #1" in message


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (401, ["rejected the API key", "Incorrect API key", "OPENAI_API_KEY"]),
        (400, ["HTTP 400", "Invalid value for 'tools'"]),
        (404, ["'scripted-model'", "TASKYARD_WIRE_API="]),
    ],
)
async def test_client_errors_fail_at_once_with_a_clear_message(
    server: ScriptedModelServer, wire_api: WireApi, status: int, expected: list[str]
) -> None:
    server_message = {401: "Incorrect API key provided", 400: "Invalid value for 'tools'"}
    server.add(Fail(status, message=server_message.get(status, "not found")))

    message = await failure_of(fast_settings(server, wire_api))

    assert len(server.requests) == 1
    for fragment in expected:
        assert fragment in message


async def test_404_names_the_wire_api_and_suggests_the_other(
    server: ScriptedModelServer,
) -> None:
    server.add(Fail(404, message="Not found"))

    message = await failure_of(fast_settings(server, "responses"))

    assert "Responses API" in message
    assert "TASKYARD_WIRE_API=chat" in message


def unused_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


async def test_unreachable_endpoint_names_the_url(wire_api: WireApi) -> None:
    base_url = f"http://127.0.0.1:{unused_port()}/v1"
    settings = ModelSettings(
        model="m",
        wire_api=wire_api,
        api_key="k",
        base_url=base_url,
        max_retries=1,
        retry_initial_delay=0.01,
    )
    notices: list[RetryNotice] = []

    message = await failure_of(settings, notices)

    assert f"Cannot reach the model endpoint {base_url}" in message
    assert "2 attempts" in message
    assert "OPENAI_BASE_URL" in message
    assert len(notices) == 1


def test_missing_api_key_fails_at_once(monkeypatch: pytest.MonkeyPatch, wire_api: WireApi) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)

    with pytest.raises(ModelError, match="OPENAI_API_KEY is not set"):
        make_model_client(ModelSettings(model="m", wire_api=wire_api))


async def test_key_and_base_url_come_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, server: ScriptedModelServer, wire_api: WireApi
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "env-key")
    monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
    server.add(Reply("from env"))

    text = await ask(ModelSettings(model="m", wire_api=wire_api))

    assert text == "from env"
    assert server.requests[0].headers["authorization"] == "Bearer env-key"


def test_unknown_wire_api_is_a_model_error() -> None:
    settings = ModelSettings(model="m", wire_api="grpc", api_key="k")  # type: ignore[arg-type]

    with pytest.raises(ModelError, match="Unknown wire API 'grpc'"):
        make_model_client(settings)


NOW = datetime(2025, 1, 1, 12, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"retry-after-ms": "250"}, 0.25),
        ({"retry-after-ms": "250", "retry-after": "9"}, 0.25),
        ({"retry-after": "3"}, 3.0),
        ({"retry-after": "1.5"}, 1.5),
        ({"retry-after": format_datetime(NOW + timedelta(seconds=20), usegmt=True)}, 20.0),
        ({"retry-after": format_datetime(NOW - timedelta(seconds=20), usegmt=True)}, 0.0),
        ({"retry-after": "86400"}, MAX_SERVER_DELAY),
        ({"retry-after": "soon"}, None),
        ({}, None),
    ],
)
def test_server_retry_delay(headers: dict[str, str], expected: float | None) -> None:
    assert server_retry_delay(headers, NOW) == expected


def test_backoff_doubles_with_jitter_and_is_capped() -> None:
    delays = [backoff_delay(attempt, 1.0) for attempt in (1, 2, 3, 30)]

    assert 0.75 <= delays[0] <= 1.0
    assert 1.5 <= delays[1] <= 2.0
    assert 3.0 <= delays[2] <= 4.0
    assert delays[3] <= 30.0
