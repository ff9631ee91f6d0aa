"""A run's first model request, sent before its sandbox is ready.

The first request carries only the instructions and the prompt, none of which needs the
sandbox, so it goes out once the source is read and is answered while the container starts and
the checkout runs. The agent loop takes the reply when it would have sent that same request;
the tool calls in it run only then, after the checkout.
"""

from __future__ import annotations

import asyncio

from engine.models.base import (
    ConversationItem,
    ModelClient,
    ModelReply,
    RetryCallback,
    ToolSpec,
)


class EarlyRequest:
    """A model request on its way before the agent loop that will use its reply exists."""

    def __init__(
        self,
        client: ModelClient,
        instructions: str,
        conversation: list[ConversationItem],
        tools: list[ToolSpec],
        on_retry: RetryCallback | None = None,
    ) -> None:
        self._sent = (instructions, list(conversation), list(tools))
        self._reply = asyncio.ensure_future(
            client.complete(instructions, list(conversation), list(tools), on_retry=on_retry)
        )
        self._taken = False

    def answers(
        self, instructions: str, conversation: list[ConversationItem], tools: list[ToolSpec]
    ) -> bool:
        """Whether this is the request the loop would send now, its reply not taken yet."""
        return not self._taken and self._sent == (instructions, conversation, tools)

    async def reply(self) -> ModelReply:
        """Take the model's reply, once it has come (ModelError as the request would raise)."""
        self._taken = True
        return await self._reply

    def discard(self) -> ModelReply | None:
        """Drop the request unless its reply was taken: cancelled while on its way; the reply
        when it had come, since its tokens were spent."""
        if self._taken:
            return None
        self._taken = True
        if not self._reply.done():
            self._reply.cancel()
            return None
        if self._reply.cancelled() or self._reply.exception() is not None:
            return None
        return self._reply.result()
