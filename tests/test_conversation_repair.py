"""No request carries a tool call without its result: the repair, and the server refusing one."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from engine.agent.loop import item_from_dict, item_to_dict
from engine.agent.repair import ABORTED_RESULT, answered
from engine.api import TaskRequest
from engine.models.base import AssistantMessage, ToolCall, ToolResult, UserMessage
from tests.support.engines import run_to_end, scripted_engine
from tests.support.model_server import CHAT_PATH, RESPONSES_PATH, Reply, ScriptedModelServer
from tests.support.repos import make_calc_repo

LOST = ToolCall("call_lost", "shell", json.dumps({"command": ["sleep", "60"]}))
DONE = ToolCall("call_done", "shell", json.dumps({"command": ["true"]}))


def test_an_unanswered_call_at_the_end_gets_an_aborted_result() -> None:
    conversation = [
        UserMessage("go"),
        AssistantMessage("", (DONE, LOST)),
        ToolResult("call_done", "ok"),
    ]
    assert answered(conversation) == [*conversation, ToolResult("call_lost", ABORTED_RESULT)]


def test_an_unanswered_call_before_a_later_message_is_answered_in_its_place() -> None:
    conversation = [UserMessage("go"), AssistantMessage("", (LOST,)), UserMessage("more")]
    aborted = ToolResult("call_lost", ABORTED_RESULT)
    assert answered(conversation) == [conversation[0], conversation[1], aborted, conversation[2]]


def test_an_answered_conversation_is_left_as_it_is() -> None:
    conversation = [UserMessage("go"), AssistantMessage("", (DONE,)), ToolResult("call_done", "ok")]
    assert answered(conversation) == conversation


def post(url: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(
        url, json.dumps(body).encode(), {"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as error:
        return error.code, json.load(error)


def test_the_server_refuses_an_unanswered_call_as_chat_completions_does() -> None:
    messages = [
        {"role": "user", "content": "go"},
        {"role": "assistant", "tool_calls": [chat_call("call_lost")]},
        {"role": "user", "content": "more"},
    ]
    with ScriptedModelServer([Reply(text="unused")]) as server:
        url = server.base_url.removesuffix("/v1") + CHAT_PATH
        status, body = post(url, {"model": "m", "messages": messages})
        assert server.remaining_steps == 1
        server.rejections.clear()
    assert status == 400
    assert body["error"] == {
        "message": "An assistant message with 'tool_calls' must be followed by tool messages "
        "responding to each 'tool_call_id'. The following tool_call_ids did not have response "
        "messages: call_lost",
        "type": "invalid_request_error",
        "param": "messages.[2].role",
        "code": None,
    }


def test_the_server_refuses_an_unanswered_call_as_responses_does() -> None:
    items = [
        {"role": "user", "content": "go"},
        {"type": "function_call", "call_id": "call_lost", "name": "shell", "arguments": "{}"},
    ]
    with ScriptedModelServer([Reply(text="unused")]) as server:
        url = server.base_url.removesuffix("/v1") + RESPONSES_PATH
        status, body = post(url, {"model": "m", "input": items})
        rejections = list(server.rejections)
        server.rejections.clear()
    assert status == 400 and rejections == ["No tool output found for function call call_lost."]
    assert body["error"] == {
        "message": "No tool output found for function call call_lost.",
        "type": "invalid_request_error",
        "param": "input",
        "code": None,
    }


def chat_call(call_id: str) -> dict[str, Any]:
    return {"id": call_id, "type": "function", "function": {"name": "shell", "arguments": "{}"}}


@pytest.mark.usefixtures("docker_available")
@pytest.mark.parametrize("wire_api", ["chat", "responses"])
async def test_a_follow_up_sends_an_aborted_result_for_a_call_left_unanswered(
    tmp_path: Path, wire_api: str
) -> None:
    repo = make_calc_repo(tmp_path / "calc")
    with ScriptedModelServer([Reply(text="looked"), Reply(text="went on")]) as server:
        engine = scripted_engine(tmp_path / "home", server, wire_api)
        first, _ = await run_to_end(engine, TaskRequest(prompt="look", repo=str(repo)))
        lost_turn = AssistantMessage("", (LOST,))
        engine.store.append_conversation(first.id, item_to_dict(lost_turn))
        await engine.follow_up(first.id, "go on")
        done = await engine.wait(first.id)
        request = server.requests[-1]
    assert done.status == "ready" and done.final_message == "went on"
    assert request.tool_outputs() == [ABORTED_RESULT]
    assert request.last_user_text() == "go on"
    stored = [item_from_dict(item) for item in engine.store.conversation(first.id)]
    assert stored[2:5] == [lost_turn, ToolResult("call_lost", ABORTED_RESULT), UserMessage("go on")]
    await engine.close()
