"""The Chat Completions wire API."""

from __future__ import annotations

from openai import omit
from openai.types.chat import (
    ChatCompletionAssistantMessageParam,
    ChatCompletionChunk,
    ChatCompletionFunctionToolParam,
    ChatCompletionMessageFunctionToolCallParam,
    ChatCompletionMessageParam,
    ChatCompletionToolMessageParam,
    ChatCompletionUserMessageParam,
)
from openai.types.completion_usage import CompletionUsage

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


class ChatModelClient(StreamingModelClient):
    """Streams turns from POST /chat/completions."""

    async def stream_turn(
        self,
        instructions: str,
        conversation: list[ConversationItem],
        tools: list[ToolSpec],
        on_text: TextCallback | None,
    ) -> ModelReply:
        request = self.client.chat.completions.create(
            model=self.settings.model,
            messages=chat_messages(instructions, conversation),
            tools=[chat_tool(tool) for tool in tools] if tools else omit,
            stream=True,
            stream_options={"include_usage": True},
        )
        builder = ReplyBuilder(on_text)
        finished = False
        async with await self.open_stream(request) as stream:
            async for chunk in self.chunks(stream):
                finished = apply_chunk(builder, chunk) or finished
        if not finished:
            raise StreamFailed(
                "the stream ended before the model finished its turn", retryable=True
            )
        return builder.reply()


def apply_chunk(builder: ReplyBuilder, chunk: ChatCompletionChunk) -> bool:
    """Add one chunk to the reply; True once the model has given its finish reason."""
    if chunk.usage is not None:
        builder.set_usage(chat_usage(chunk.usage))
    finished = False
    for choice in chunk.choices:
        builder.add_text(choice.delta.content or "")
        for call in choice.delta.tool_calls or []:
            function = call.function
            builder.update_tool_call(
                call.index,
                call_id=call.id,
                name=function.name if function else None,
                arguments_fragment=function.arguments if function else None,
            )
        finished = finished or choice.finish_reason is not None
    return finished


def chat_usage(usage: CompletionUsage) -> Usage:
    details = usage.prompt_tokens_details
    cached = details.cached_tokens if details is not None else None
    return Usage(usage.prompt_tokens or 0, usage.completion_tokens or 0, cached or 0)


def chat_messages(
    instructions: str, conversation: list[ConversationItem]
) -> list[ChatCompletionMessageParam]:
    """Instructions as the system message, then the conversation in Chat Completions shape."""
    messages: list[ChatCompletionMessageParam] = []
    if instructions:
        messages.append({"role": "system", "content": instructions})
    messages.extend(chat_message(item) for item in conversation)
    return messages


def chat_message(item: ConversationItem) -> ChatCompletionMessageParam:
    if isinstance(item, UserMessage):
        return user_message(item)
    if isinstance(item, AssistantMessage):
        return assistant_message(item)
    return tool_message(item)


def user_message(item: UserMessage) -> ChatCompletionUserMessageParam:
    return {"role": "user", "content": item.text}


def assistant_message(item: AssistantMessage) -> ChatCompletionAssistantMessageParam:
    message: ChatCompletionAssistantMessageParam = {
        "role": "assistant",
        "content": item.text or None,
    }
    if item.tool_calls:
        message["tool_calls"] = [chat_tool_call(call) for call in item.tool_calls]
    return message


def chat_tool_call(call: ToolCall) -> ChatCompletionMessageFunctionToolCallParam:
    return {
        "id": call.call_id,
        "type": "function",
        "function": {"name": call.name, "arguments": call.arguments},
    }


def tool_message(item: ToolResult) -> ChatCompletionToolMessageParam:
    return {"role": "tool", "tool_call_id": item.call_id, "content": item.output}


def chat_tool(tool: ToolSpec) -> ChatCompletionFunctionToolParam:
    return {
        "type": "function",
        "function": {
            "name": tool.name,
            "description": tool.description,
            "parameters": tool.parameters,
        },
    }
