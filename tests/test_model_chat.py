"""The Chat Completions client against the scripted server: real HTTP, real SSE."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator

import pytest
from openai import AsyncOpenAI

from engine.models import ChatModelClient, make_model_client
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
    model_client = make_model_client(fast_settings(server, "chat"))
    yield model_client
    assert isinstance(model_client, ChatModelClient)
    await model_client.aclose()


def test_make_model_client_picks_chat(client: ModelClient) -> None:
    assert isinstance(client, ChatModelClient)


async def test_text_reply_streams_deltas_and_usage(
    server: ScriptedModelServer, client: ModelClient
) -> None:
    server.add(Reply("The tests pass on the first try.", usage=(120, 34)))
    deltas: list[str] = []

    reply = await client.complete("Be brief.", [UserMessage("status?")], [], on_text=deltas.append)

    assert reply.message == AssistantMessage("The tests pass on the first try.")
    assert len(deltas) > 1
    assert "".join(deltas) == reply.message.text
    assert reply.usage == Usage(input_tokens=120, output_tokens=34)


async def test_tool_calls_are_assembled_from_streamed_fragments(
    server: ScriptedModelServer, client: ModelClient
) -> None:
    server.add(
        Reply(
            tool_calls=[
                Call("shell", {"command": ["pytest", "-q", "tests/test_models.py"]}, "call_a"),
                Call("shell", {"command": ["git", "status", "--porcelain"]}),
                Call("apply_patch", '{"input": "*** Begin Patch'),
            ]
        )
    )

    reply = await client.complete("", [UserMessage("run the tests")], [SHELL])

    calls = reply.message.tool_calls
    assert [call.name for call in calls] == ["shell", "shell", "apply_patch"]
    assert calls[0].call_id == "call_a"
    assert json.loads(calls[0].arguments) == {"command": ["pytest", "-q", "tests/test_models.py"]}
    assert json.loads(calls[1].arguments) == {"command": ["git", "status", "--porcelain"]}
    assert calls[2].arguments == '{"input": "*** Begin Patch'
    assert len({call.call_id for call in calls}) == 3
    assert reply.message.text == ""


async def test_request_carries_system_message_tools_and_stream_options(
    server: ScriptedModelServer, client: ModelClient
) -> None:
    server.add(Reply("ok"))

    await client.complete("You are careful.", [UserMessage("hello")], [SHELL])

    (request,) = server.requests
    assert request.path == "/v1/chat/completions"
    assert request.headers["authorization"] == "Bearer test-key"
    assert request.body["model"] == "scripted-model"
    assert request.body["stream"] is True
    assert request.body["stream_options"] == {"include_usage": True}
    assert request.body["messages"][0] == {"role": "system", "content": "You are careful."}
    assert request.body["tools"] == [
        {
            "type": "function",
            "function": {
                "name": "shell",
                "description": "Run a command.",
                "parameters": SHELL.parameters,
            },
        }
    ]


async def test_no_tools_and_no_instructions_are_left_out(
    server: ScriptedModelServer, client: ModelClient
) -> None:
    server.add(Reply("ok"))

    await client.complete("", [UserMessage("hello")], [])

    (request,) = server.requests
    assert "tools" not in request.body
    assert request.body["messages"] == [{"role": "user", "content": "hello"}]


async def test_conversation_converts_to_chat_messages(
    server: ScriptedModelServer, client: ModelClient
) -> None:
    server.add(Reply("done"))
    conversation: list[ConversationItem] = [
        UserMessage("fix the bug"),
        AssistantMessage("Looking.", (ToolCall("call_1", "shell", '{"command": ["ls"]}'),)),
        ToolResult("call_1", "README.md\nsrc"),
        AssistantMessage("", (ToolCall("call_2", "shell", '{"command": ["cat", "x"]}'),)),
        ToolResult("call_2", "print(1)"),
        AssistantMessage("Fixed."),
        UserMessage("thanks, now add a test"),
    ]

    await client.complete("sys", conversation, [SHELL])

    (request,) = server.requests
    assert request.body["messages"] == [
        {"role": "system", "content": "sys"},
        {"role": "user", "content": "fix the bug"},
        {
            "role": "assistant",
            "content": "Looking.",
            "tool_calls": [
                {
                    "id": "call_1",
                    "type": "function",
                    "function": {"name": "shell", "arguments": '{"command": ["ls"]}'},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "call_1", "content": "README.md\nsrc"},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "call_2",
                    "type": "function",
                    "function": {"name": "shell", "arguments": '{"command": ["cat", "x"]}'},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "call_2", "content": "print(1)"},
        {"role": "assistant", "content": "Fixed."},
        {"role": "user", "content": "thanks, now add a test"},
    ]
    assert request.tool_outputs() == ["README.md\nsrc", "print(1)"]
    assert request.last_user_text() == "thanks, now add a test"


async def test_a_step_can_read_the_tool_output_it_follows(
    server: ScriptedModelServer, client: ModelClient
) -> None:
    def cite_last_output(request: RecordedRequest) -> Reply:
        return Reply(f"The command printed {request.tool_outputs()[-1]!r}.")

    server.add(Reply(tool_calls=[Call("shell", {"command": ["echo", "hi"]})]), cite_last_output)
    first = await client.complete("", [UserMessage("say hi")], [SHELL])
    (call,) = first.message.tool_calls
    conversation: list[ConversationItem] = [
        UserMessage("say hi"),
        first.message,
        ToolResult(call.call_id, "hi\n"),
    ]

    second = await client.complete("", conversation, [SHELL])

    assert second.message.text == "The command printed 'hi\\n'."
    assert server.remaining_steps == 0


async def test_server_answers_non_streaming_requests(server: ScriptedModelServer) -> None:
    server.add(Reply("plain", tool_calls=[Call("shell", {"command": ["ls"]}, "call_9")]))
    sdk = AsyncOpenAI(api_key="test-key", base_url=server.base_url, max_retries=0)

    completion = await sdk.chat.completions.create(
        model="scripted-model", messages=[{"role": "user", "content": "hi"}]
    )
    await sdk.close()

    message = completion.choices[0].message
    assert message.content == "plain"
    assert message.tool_calls is not None
    assert message.tool_calls[0].id == "call_9"
    assert completion.choices[0].finish_reason == "tool_calls"
    assert completion.usage is not None
    assert completion.usage.total_tokens == 15
