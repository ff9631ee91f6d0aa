"""The agent loop: ask the model, run its tool calls, until it answers without one."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from engine.agent.early import EarlyRequest
from engine.agent.repair import answered
from engine.agent.tools import ToolBox, without_oversized_arguments
from engine.models.base import (
    AssistantMessage,
    ConversationItem,
    ModelClient,
    ModelReply,
    RetryNotice,
    ToolCall,
    ToolResult,
    Usage,
    UserMessage,
)
from engine.record.store import Store
from engine.views.events import (
    AgentMessage,
    Event,
    ModelRetry,
    TaskResumed,
    TaskStatusChanged,
    TurnUsage,
)
from engine.views.task import TaskStatus


@dataclass(frozen=True)
class LoopLimits:
    max_turns: int
    max_wall_seconds: float
    max_tokens: int


@dataclass(frozen=True)
class LoopOutcome:
    """How the loop ended: a final message, or the limit that stopped it."""

    final_message: str
    usage: Usage
    stopped_by: str = ""


def item_to_dict(item: ConversationItem) -> dict[str, Any]:
    """A conversation item as JSON-ready data (for the store)."""
    return dataclasses.asdict(item)


def item_from_dict(data: dict[str, Any]) -> ConversationItem:
    """Rebuild a conversation item stored by item_to_dict."""
    role = data["role"]
    if role == "user":
        return UserMessage(text=data["text"])
    if role == "tool":
        return ToolResult(call_id=data["call_id"], output=data["output"])
    calls = tuple(ToolCall(**call) for call in data["tool_calls"])
    return AssistantMessage(text=data["text"], tool_calls=calls)


def turns_since_prompt(conversation: list[ConversationItem]) -> int:
    """The model turns taken since the last user message: what a run has used of max_turns."""
    turns = 0
    for item in reversed(conversation):
        if isinstance(item, UserMessage):
            break
        turns += isinstance(item, AssistantMessage)
    return turns


def wall_seconds_used(events: Iterable[dict[str, Any]]) -> float:
    """The wall time the task's current run has had so far, over every process that ran it:
    from the run's start (its last move to running) or a take-up to the process's last sign of
    life before the next take-up. The time no process was running it does not count."""
    used, start, last = 0.0, None, 0.0
    for event in events:
        kind, ts = event["type"], event["ts"]
        if kind == TaskStatusChanged.type and event["status"] == TaskStatus.RUNNING:
            used, start = 0.0, ts
        elif kind == TaskResumed.type and start is not None:
            used += max(0.0, max(last, event.get("last_seen", 0.0)) - start)
            start = ts
        last = ts
    return used


class AgentLoop:
    """One task's conversation with the model, recorded as it happens."""

    def __init__(
        self,
        *,
        task_id: str,
        client: ModelClient,
        tools: ToolBox,
        instructions: str,
        limits: LoopLimits,
        store: Store,
        emit: Callable[[Event], None],
        conversation: list[ConversationItem],
        turn: int = 0,
        turns_used: int = 0,
        wall_used: float = 0.0,
        early: EarlyRequest | None = None,
    ) -> None:
        self.task_id = task_id
        self._client = client
        self._tools = tools
        self._instructions = instructions
        self._limits = limits
        self._store = store
        self._emit = emit
        self.conversation = conversation
        self.turn = turn
        self._turns_used = turns_used
        """Turns this run already took before its process stopped; they count against max_turns."""
        self._wall_used = wall_used
        """Seconds this run already had before its process stopped; they count against
        max_wall_seconds."""
        self.usage = Usage()
        self._early = early
        """The first request, sent before the loop began; its reply is taken when the loop
        would send that same request."""
        self._answer_unanswered_calls()

    def _answer_unanswered_calls(self) -> None:
        """Give every tool call left without a result an aborted one, in memory and stored."""
        repaired = answered(self.conversation)
        if repaired != self.conversation:
            self.conversation = repaired
            stored = [item_to_dict(item) for item in repaired]
            self._store.replace_conversation(self.task_id, stored)

    def add(self, item: ConversationItem) -> None:
        self.conversation.append(item)
        self._store.append_conversation(self.task_id, item_to_dict(item))

    async def run(self) -> LoopOutcome:
        """Run turns until a final answer or a limit; the wall-time limit interrupts commands."""
        try:
            async with asyncio.timeout(max(0.0, self._limits.max_wall_seconds - self._wall_used)):
                return await self._turns()
        except TimeoutError:
            limit = self._limits.max_wall_seconds
            return LoopOutcome("", self.usage, f"max_wall_seconds ({limit:g}s)")

    async def _turns(self) -> LoopOutcome:
        turns_this_run = self._turns_used
        while True:
            if turns_this_run >= self._limits.max_turns:
                return LoopOutcome("", self.usage, f"max_turns ({self._limits.max_turns})")
            if self.usage.total_tokens >= self._limits.max_tokens:
                return LoopOutcome("", self.usage, f"max_tokens ({self._limits.max_tokens})")
            message = await self._ask_model()
            turns_this_run += 1
            if not message.tool_calls:
                return LoopOutcome(message.text, self.usage)
            for call in message.tool_calls:
                self.add(ToolResult(call_id=call.call_id, output=await self._tools.call(call)))

    async def _ask_model(self) -> AssistantMessage:
        reply = await self._next_reply()
        self.turn += 1
        self._record_usage(reply.usage)
        self.add(without_oversized_arguments(reply.message))
        if reply.message.text:
            self._emit(AgentMessage(task_id=self.task_id, text=reply.message.text, turn=self.turn))
        return reply.message

    async def _next_reply(self) -> ModelReply:
        """The model's next turn: the early request's reply when it is this very request."""
        tools = self._tools.specs()
        early, self._early = self._early, None
        if early is not None and early.answers(self._instructions, self.conversation, tools):
            return await early.reply()
        return await self._client.complete(
            self._instructions, self.conversation, tools, on_retry=self._on_retry
        )

    def _record_usage(self, usage: Usage) -> None:
        self.usage += usage
        record_usage(self._store, self._emit, self.task_id, self.turn, usage)

    def _on_retry(self, notice: RetryNotice) -> None:
        self._emit(retry_event(self.task_id, notice))


def record_usage(
    store: Store, emit: Callable[[Event], None], task_id: str, turn: int, usage: Usage
) -> None:
    """Store the tokens one model turn spent, then announce them."""
    counts = {
        "input_tokens": usage.input_tokens,
        "output_tokens": usage.output_tokens,
        "cached_tokens": usage.cached_tokens,
    }
    store.record_turn(task_id, turn, counts)
    emit(TurnUsage(task_id=task_id, turn=turn, **counts))


def retry_event(task_id: str, notice: RetryNotice) -> ModelRetry:
    """The event announcing that a model request is tried again."""
    return ModelRetry(
        task_id=task_id, attempt=notice.attempt, delay=notice.delay, reason=notice.reason
    )
