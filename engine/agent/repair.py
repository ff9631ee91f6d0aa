"""Conversation repair: every tool call gets a result before the conversation is sent."""

from __future__ import annotations

from typing import Literal

from engine.models.base import AssistantMessage, ConversationItem, ToolCall, ToolResult
from engine.views.task import CommandRecord

Recovery = Literal["recorded", "reattach", "aborted"]
"""How a tool call left without a result by a stopped process gets one: from its command's
record, by following its command to its end in the sandbox, or as aborted."""

ABORTED_RESULT = (
    "aborted: taskyard stopped before this command's result was recorded (exit status unknown); "
    "check its effects before relying on them"
)


def answered(conversation: list[ConversationItem]) -> list[ConversationItem]:
    """The conversation with an aborted result after the results of each unanswered call."""
    repaired: list[ConversationItem] = []
    pending: list[str] = []
    for item in conversation:
        if pending and not (isinstance(item, ToolResult) and item.call_id in pending):
            repaired.extend(aborted(pending))
            pending = []
        repaired.append(item)
        if isinstance(item, AssistantMessage):
            pending = [call.call_id for call in item.tool_calls]
        elif isinstance(item, ToolResult) and item.call_id in pending:
            pending.remove(item.call_id)
    return repaired + aborted(pending)


def aborted(call_ids: list[str]) -> list[ConversationItem]:
    """An aborted result for each call id."""
    return [ToolResult(call_id=call_id, output=ABORTED_RESULT) for call_id in call_ids]


def dangling_calls(conversation: list[ConversationItem]) -> list[ToolCall]:
    """The calls of the last assistant message still without a result, when nothing but their
    results follows it: the calls a stopped process was running."""
    answered: set[str] = set()
    for item in reversed(conversation):
        if isinstance(item, ToolResult):
            answered.add(item.call_id)
        elif isinstance(item, AssistantMessage):
            return [call for call in item.tool_calls if call.call_id not in answered]
        else:
            return []
    return []


def recovery_for(call: ToolCall, command: CommandRecord | None) -> Recovery:
    """How a dangling shell call gets its result, from the command it ran (None when it ran
    none): the recorded end, the end followed in the sandbox, or aborted when unknowable."""
    if call.name != "shell" or command is None:
        return "aborted"
    if command.finished is not None:
        known = command.exit_code is not None or command.timed_out
        return "recorded" if known else "aborted"
    return "reattach" if command.run_id else "aborted"
