"""The Responses wire API, stateless: store=False and the full input every turn."""

from __future__ import annotations

from typing import Literal

from openai import omit
from openai.types.responses import (
    EasyInputMessageParam,
    FunctionToolParam,
    ResponseCompletedEvent,
    ResponseErrorEvent,
    ResponseFailedEvent,
    ResponseFunctionCallArgumentsDeltaEvent,
    ResponseFunctionToolCall,
    ResponseFunctionToolCallParam,
    ResponseIncompleteEvent,
    ResponseInputItemParam,
    ResponseOutputItemAddedEvent,
    ResponseOutputItemDoneEvent,
    ResponseStreamEvent,
    ResponseTextDeltaEvent,
    ResponseUsage,
)
from openai.types.responses.response_input_item_param import FunctionCallOutput

from engine.models.base import (
    AssistantMessage,
    ConversationItem,
    ModelReply,
    TextCallback,
    ToolCall,
    ToolResult,
    ToolSpec,
    Usage,
    UserMessage,
)
from engine.models.errors import StreamFailed
from engine.models.reply_builder import ReplyBuilder
from engine.models.streaming import StreamingModelClient

TRANSIENT_ERROR_CODES = frozenset({"server_error", "rate_limit_exceeded", "server_is_overloaded"})


class ResponsesModelClient(StreamingModelClient):
    """Streams turns from POST /responses."""

    async def stream_turn(
        self,
        instructions: str,
        conversation: list[ConversationItem],
        tools: list[ToolSpec],
        on_text: TextCallback | None,
    ) -> ModelReply:
        request = self.client.responses.create(
            model=self.settings.model,
            instructions=instructions or omit,
            input=response_input(conversation),
            tools=[function_tool(tool) for tool in tools] if tools else omit,
            store=False,
            stream=True,
        )
        builder = ReplyBuilder(on_text)
        finished = False
        async with await self.open_stream(request) as stream:
            async for event in self.chunks(stream):
                finished = apply_event(builder, event) or finished
        if not finished:
            raise StreamFailed("the stream closed before response.completed", retryable=True)
        return builder.reply()


def apply_event(builder: ReplyBuilder, event: ResponseStreamEvent) -> bool:
    """Add one event to the reply; True once the response is complete."""
    if isinstance(event, ResponseTextDeltaEvent):
        builder.add_text(event.delta)
    elif isinstance(event, ResponseFunctionCallArgumentsDeltaEvent):
        builder.update_tool_call(event.output_index, arguments_fragment=event.delta)
    elif isinstance(event, ResponseOutputItemAddedEvent | ResponseOutputItemDoneEvent):
        apply_output_item(builder, event)
    elif isinstance(event, ResponseCompletedEvent | ResponseIncompleteEvent):
        builder.set_usage(responses_usage(event.response.usage))
        return True
    elif isinstance(event, ResponseFailedEvent | ResponseErrorEvent):
        raise stream_failure(event)
    return False


def apply_output_item(
    builder: ReplyBuilder, event: ResponseOutputItemAddedEvent | ResponseOutputItemDoneEvent
) -> None:
    item = event.item
    if not isinstance(item, ResponseFunctionToolCall):
        return
    if isinstance(event, ResponseOutputItemDoneEvent):
        builder.complete_tool_call(event.output_index, item.call_id, item.name, item.arguments)
    else:
        builder.update_tool_call(event.output_index, item.call_id, item.name, item.arguments)


def stream_failure(event: ResponseFailedEvent | ResponseErrorEvent) -> StreamFailed:
    if isinstance(event, ResponseErrorEvent):
        code, message = event.code, event.message
    else:
        error = event.response.error
        code = error.code if error is not None else None
        message = error.message if error is not None else "the response failed"
    label = f"{message} ({code})" if code else message
    return StreamFailed(label, retryable=code is None or code in TRANSIENT_ERROR_CODES)


def responses_usage(usage: ResponseUsage | None) -> Usage:
    if usage is None:
        return Usage()
    details = usage.input_tokens_details
    cached = details.cached_tokens if details is not None else None
    return Usage(usage.input_tokens or 0, usage.output_tokens or 0, cached or 0)


def response_input(conversation: list[ConversationItem]) -> list[ResponseInputItemParam]:
    """The conversation as Responses input items; an assistant turn may become several."""
    items: list[ResponseInputItemParam] = []
    for item in conversation:
        items.extend(input_items(item))
    return items


def input_items(item: ConversationItem) -> list[ResponseInputItemParam]:
    if isinstance(item, UserMessage):
        return [message_item("user", item.text)]
    if isinstance(item, AssistantMessage):
        text = [message_item("assistant", item.text)] if item.text else []
        return [*text, *(function_call_item(call) for call in item.tool_calls)]
    return [function_call_output_item(item)]


def message_item(role: Literal["user", "assistant"], text: str) -> EasyInputMessageParam:
    return {"type": "message", "role": role, "content": text}


def function_call_item(call: ToolCall) -> ResponseFunctionToolCallParam:
    return {
        "type": "function_call",
        "call_id": call.call_id,
        "name": call.name,
        "arguments": call.arguments,
    }


def function_call_output_item(result: ToolResult) -> FunctionCallOutput:
    return {"type": "function_call_output", "call_id": result.call_id, "output": result.output}


def function_tool(tool: ToolSpec) -> FunctionToolParam:
    return {
        "type": "function",
        "name": tool.name,
        "description": tool.description,
        "parameters": tool.parameters,
        "strict": False,
    }
