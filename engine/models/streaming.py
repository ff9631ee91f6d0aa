"""The part both wire-API clients share: the openai client, retries and idle timeouts."""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import AsyncIterator, Awaitable
from typing import TypeVar

from openai import AsyncStream

from engine.models.base import (
    ConversationItem,
    ModelClient,
    ModelReply,
    ModelSettings,
    RetryCallback,
    TextCallback,
    ToolSpec,
)
from engine.models.connection import endpoint_of, open_client
from engine.models.retry import (
    chunks_with_idle_timeout,
    run_with_retries,
    within_idle_timeout,
    within_request_timeout,
)

ChunkT = TypeVar("ChunkT")


class StreamingModelClient(ModelClient):
    """Runs one streamed request per attempt under the shared retry policy."""

    def __init__(self, settings: ModelSettings) -> None:
        self.settings = settings
        self.client = open_client(settings)
        self.endpoint = endpoint_of(self.client, settings)

    async def complete(
        self,
        instructions: str,
        conversation: list[ConversationItem],
        tools: list[ToolSpec],
        on_text: TextCallback | None = None,
        on_retry: RetryCallback | None = None,
    ) -> ModelReply:
        return await run_with_retries(
            lambda: within_request_timeout(
                self.stream_turn(instructions, conversation, tools, on_text),
                self.settings.request_timeout,
            ),
            self.endpoint,
            max_retries=self.settings.max_retries,
            initial_delay=self.settings.retry_initial_delay,
            on_retry=on_retry,
        )

    async def aclose(self) -> None:
        """Release the HTTP connections; the client must not be used afterwards."""
        await self.client.close()

    @abstractmethod
    async def stream_turn(
        self,
        instructions: str,
        conversation: list[ConversationItem],
        tools: list[ToolSpec],
        on_text: TextCallback | None,
    ) -> ModelReply:
        """Make one streamed request and assemble the reply; no retries here."""

    async def open_stream(self, request: Awaitable[AsyncStream[ChunkT]]) -> AsyncStream[ChunkT]:
        """Send the request; the response must start within the idle timeout."""
        return await within_idle_timeout(request, self.settings.stream_idle_timeout)

    def chunks(self, stream: AsyncStream[ChunkT]) -> AsyncIterator[ChunkT]:
        return chunks_with_idle_timeout(stream, self.settings.stream_idle_timeout)
