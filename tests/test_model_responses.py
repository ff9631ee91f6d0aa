"""The Responses client against the scripted server: real HTTP, real SSE events."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator

import pytest
from openai import AsyncOpenAI
from openai.types.responses import ResponseFailedEvent

from engine.models import ResponsesModelClient, make_model_client
from engine.models.base import (
    AssistantMessage,
    ConversationItem,
    ModelClient,
    ToolCall,
    ToolResult,
    ToolSpec,
    Usage,
    UserMessage,
)
from engine.models.errors import StreamFailed
from engine.models.reply_builder import ReplyBuilder
from engine.models.responses import apply_event
from tests.support.model_server import (
    Call,
    RecordedRequest,
    Reply,
    ScriptedModelServer,
    fast_settings,
)

SHELL = ToolSpec(
    name="shell",
    description="Run a command.",
    parameters={"type": "object", "properties": {"command": {"type": "array"}}},
)


@pytest.fixture
def server() -> Iterator[ScriptedModelServer]:
    with ScriptedModelServer() as running:
        yield running


@pytest.fixture
async def client(server: ScriptedModelServer) -> AsyncIterator[ModelClient]:
    model_client = make_model_client(fast_settings(server, "responses"))
    yield model_client
    assert isinstance(model_client, ResponsesModelClient)
    await model_client.aclose()


async def test_text_reply_streams_deltas_and_usage(
    server: ScriptedModelServer, client: ModelClient
) -> None:
    server.add(Reply("All 42 tests passed.", usage=(900, 12)))
    deltas: list[str] = []

    reply = await client.complete("Be brief.", [UserMessage("status?")], [], on_text=deltas.append)

    assert reply.message == AssistantMessage("All 42 tests passed.")
    assert len(deltas) > 1
    assert "".join(deltas) == reply.message.text
    assert reply.usage == Usage(input_tokens=900, output_tokens=12)


async def test_text_and_tool_calls_in_one_turn(
    server: ScriptedModelServer, client: ModelClient
) -> None:
    server.add(
        Reply(
            "Let me look.",
            tool_calls=[
                Call("shell", {"command": ["rg", "-n", "def main"]}, "call_x"),
                Call("shell", {"command": ["sed", "-n", "1,40p", "cli.py"]}),
                Call("apply_patch", "{not json"),
            ],
        )
    )

    reply = await client.complete("", [UserMessage("where is main?")], [SHELL])

    calls = reply.message.tool_calls
    assert reply.message.text == "Let me look."
    assert [call.name for call in calls] == ["shell", "shell", "apply_patch"]
    assert calls[0].call_id == "call_x"
    assert json.loads(calls[0].arguments) == {"command": ["rg", "-n", "def main"]}
    assert json.loads(calls[1].arguments) == {"command": ["sed", "-n", "1,40p", "cli.py"]}
    assert calls[2].arguments == "{not json"
    assert len({call.call_id for call in calls}) == 3


async def test_request_is_stateless_with_instructions_and_function_tools(
    server: ScriptedModelServer, client: ModelClient
) -> None:
    server.add(Reply("ok"))

    await client.complete("You are careful.", [UserMessage("hello")], [SHELL])

    (request,) = server.requests
    assert request.path == "/v1/responses"
    assert request.headers["authorization"] == "Bearer test-key"
    assert request.body["model"] == "scripted-model"
    assert request.body["stream"] is True
    assert request.body["store"] is False
    assert request.body["instructions"] == "You are careful."
    assert request.body["tools"] == [
        {
            "type": "function",
            "name": "shell",
            "description": "Run a command.",
            "parameters": SHELL.parameters,
            "strict": False,
        }
    ]


async def test_no_tools_and_no_instructions_are_left_out(
    server: ScriptedModelServer, client: ModelClient
) -> None:
    server.add(Reply("ok"))

    await client.complete("", [UserMessage("hello")], [])

    (request,) = server.requests
    assert "tools" not in request.body
    assert "instructions" not in request.body
    assert request.last_user_text() == "hello"


async def test_conversation_converts_to_input_items(
    server: ScriptedModelServer, client: ModelClient
) -> None:
    server.add(Reply("done"))
    conversation: list[ConversationItem] = [
        UserMessage("fix the bug"),
        AssistantMessage(
            "Looking.",
            (
                ToolCall("call_1", "shell", '{"command": ["ls"]}'),
                ToolCall("call_2", "shell", '{"command": ["pwd"]}'),
            ),
        ),
        ToolResult("call_1", "README.md"),
        ToolResult("call_2", "/workspace"),
        AssistantMessage("Fixed."),
        UserMessage("now add a test"),
    ]

    await client.complete("sys", conversation, [SHELL])

    (request,) = server.requests
    assert request.body["input"] == [
        {"type": "message", "role": "user", "content": "fix the bug"},
        {"type": "message", "role": "assistant", "content": "Looking."},
        {
            "type": "function_call",
            "call_id": "call_1",
            "name": "shell",
            "arguments": '{"command": ["ls"]}',
        },
        {
            "type": "function_call",
            "call_id": "call_2",
            "name": "shell",
            "arguments": '{"command": ["pwd"]}',
        },
        {"type": "function_call_output", "call_id": "call_1", "output": "README.md"},
        {"type": "function_call_output", "call_id": "call_2", "output": "/workspace"},
        {"type": "message", "role": "assistant", "content": "Fixed."},
        {"type": "message", "role": "user", "content": "now add a test"},
    ]
    assert request.tool_outputs() == ["README.md", "/workspace"]
    assert request.last_user_text() == "now add a test"


async def test_full_input_is_sent_every_turn(
    server: ScriptedModelServer, client: ModelClient
) -> None:
    def cite_chunk(request: RecordedRequest) -> Reply:
        return Reply(f"See 【{request.tool_outputs()[-1]}†L1-L2】.")

    server.add(Reply(tool_calls=[Call("shell", {"command": ["make"]})]), cite_chunk)
    first = await client.complete("", [UserMessage("build it")], [SHELL])
    (call,) = first.message.tool_calls
    conversation: list[ConversationItem] = [
        UserMessage("build it"),
        first.message,
        ToolResult(call.call_id, "chunk_7"),
    ]

    second = await client.complete("", conversation, [SHELL])

    assert second.message.text == "See 【chunk_7†L1-L2】."
    second_input = server.requests[1].body["input"]
    assert [item.get("type") for item in second_input] == [
        "message",
        "function_call",
        "function_call_output",
    ]


@pytest.mark.parametrize(
    ("code", "retryable"), [("server_error", True), ("context_length_exceeded", False)]
)
def test_failed_event_becomes_a_stream_failure(code: str, retryable: bool) -> None:
    event = ResponseFailedEvent.model_construct(
        type="response.failed",
        sequence_number=3,
        response={"id": "resp_1", "error": {"code": code, "message": "it broke"}},
    )

    with pytest.raises(StreamFailed, match=f"it broke \\({code}\\)") as failure:
        apply_event(ReplyBuilder(None), event)

    assert failure.value.retryable is retryable


async def test_server_answers_non_streaming_requests(server: ScriptedModelServer) -> None:
    server.add(Reply("plain", tool_calls=[Call("shell", {"command": ["ls"]}, "call_9")]))
    sdk = AsyncOpenAI(api_key="test-key", base_url=server.base_url, max_retries=0)

    response = await sdk.responses.create(model="scripted-model", input="hi", store=False)
    await sdk.close()

    assert response.output_text == "plain"
    assert [item.type for item in response.output] == ["message", "function_call"]
    assert response.usage is not None
    assert response.usage.total_tokens == 15
    assert server.requests[0].last_user_text() == "hi"
