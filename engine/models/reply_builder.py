"""Assembles one streamed model turn: text deltas, tool-call fragments and usage."""

from __future__ import annotations

from dataclasses import dataclass, field

from engine.models.base import AssistantMessage, ModelReply, TextCallback, ToolCall, Usage


@dataclass
class PendingToolCall:
    """A tool call whose arguments are still arriving."""

    call_id: str = ""
    name: str = ""
    argument_fragments: list[str] = field(default_factory=list)

    def finish(self, index: int) -> ToolCall:
        call_id = self.call_id or f"call_{index}"
        return ToolCall(call_id=call_id, name=self.name, arguments="".join(self.argument_fragments))


class ReplyBuilder:
    """Collects the pieces of a streamed turn, in the order the model produced them."""

    def __init__(self, on_text: TextCallback | None) -> None:
        self._on_text = on_text
        self._text_parts: list[str] = []
        self._tool_calls: dict[int, PendingToolCall] = {}
        self._usage = Usage()

    def add_text(self, delta: str) -> None:
        if not delta:
            return
        self._text_parts.append(delta)
        if self._on_text is not None:
            self._on_text(delta)

    def update_tool_call(
        self,
        index: int,
        call_id: str | None = None,
        name: str | None = None,
        arguments_fragment: str | None = None,
    ) -> None:
        """Record a fragment of the tool call at `index`; id and name replace, arguments append."""
        pending = self._tool_calls.setdefault(index, PendingToolCall())
        if call_id:
            pending.call_id = call_id
        if name:
            pending.name = name
        if arguments_fragment:
            pending.argument_fragments.append(arguments_fragment)

    def complete_tool_call(self, index: int, call_id: str, name: str, arguments: str) -> None:
        """Replace whatever was streamed for `index` with the server's final version."""
        self._tool_calls[index] = PendingToolCall(call_id, name, [arguments])

    def set_usage(self, usage: Usage) -> None:
        self._usage = usage

    def reply(self) -> ModelReply:
        tool_calls = tuple(
            self._tool_calls[index].finish(index) for index in sorted(self._tool_calls)
        )
        message = AssistantMessage(text="".join(self._text_parts), tool_calls=tool_calls)
        return ModelReply(message=message, usage=self._usage)
