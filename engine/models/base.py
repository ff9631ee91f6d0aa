"""The model interface the agent loop talks to, independent of the wire API."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal


class ModelError(Exception):
    """A model call failed for good; the message says what and what to do."""


@dataclass(frozen=True)
class ToolSpec:
    """A function tool offered to the model."""

    name: str
    description: str
    parameters: dict[str, Any]


@dataclass(frozen=True)
class ToolCall:
    """A function call the model made; `arguments` is the raw JSON text, unvalidated."""

    call_id: str
    name: str
    arguments: str


@dataclass(frozen=True)
class Usage:
    """Token counts of one model call."""

    input_tokens: int = 0
    output_tokens: int = 0
    cached_tokens: int = 0

    @property
    def total_tokens(self) -> int:
        return self.input_tokens + self.output_tokens

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            self.input_tokens + other.input_tokens,
            self.output_tokens + other.output_tokens,
            self.cached_tokens + other.cached_tokens,
        )


@dataclass(frozen=True)
class UserMessage:
    text: str
    role: Literal["user"] = "user"


@dataclass(frozen=True)
class AssistantMessage:
    """What the model said in one turn: text and/or tool calls."""

    text: str
    tool_calls: tuple[ToolCall, ...] = ()
    role: Literal["assistant"] = "assistant"


@dataclass(frozen=True)
class ToolResult:
    call_id: str
    output: str
    role: Literal["tool"] = "tool"


ConversationItem = UserMessage | AssistantMessage | ToolResult


@dataclass(frozen=True)
class ModelReply:
    """One complete model turn."""

    message: AssistantMessage
    usage: Usage = field(default_factory=Usage)


@dataclass(frozen=True)
class RetryNotice:
    """Told to the caller before a retry sleep."""

    attempt: int
    delay: float
    reason: str


TextCallback = Callable[[str], None]
RetryCallback = Callable[[RetryNotice], None]


@dataclass(frozen=True)
class ModelSettings:
    """Everything needed to reach a model."""

    model: str
    wire_api: Literal["chat", "responses"] = "responses"
    api_key: str | None = None
    base_url: str | None = None
    max_retries: int = 5
    stream_idle_timeout: float = 120.0
    request_timeout: float = 600.0
    retry_initial_delay: float = 0.5
    """First backoff delay in seconds when the server gives no Retry-After; doubles per attempt."""


class ModelClient(ABC):
    """Sends a conversation with tools and returns the model's next turn, streamed."""

    @abstractmethod
    async def complete(
        self,
        instructions: str,
        conversation: list[ConversationItem],
        tools: list[ToolSpec],
        on_text: TextCallback | None = None,
        on_retry: RetryCallback | None = None,
    ) -> ModelReply:
        """Stream one turn; on_text gets text deltas. Retries 429/5xx honouring Retry-After.

        Raises ModelError with a clear message when the call cannot succeed.
        """

    @abstractmethod
    async def aclose(self) -> None:
        """Release connections; the client must not be used afterwards."""
