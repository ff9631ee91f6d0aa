"""Conversation repair: every tool call gets a result before the conversation is sent."""

from __future__ import annotations

from engine.models.base import AssistantMessage, ConversationItem, ToolResult

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
