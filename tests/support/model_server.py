"""A scripted OpenAI-compatible HTTP server: real HTTP, real SSE, both wire APIs.

Each POST to /v1/chat/completions or /v1/responses consumes one step of the script:
a Reply (streamed or as JSON), a Fail (an HTTP error), a Stall (headers and one event,
then silence), a Trickle (a text delta every few seconds, never finishing) or a callable
that reads the RecordedRequest and returns one of those. A request carrying a tool call without
its result is refused as the real APIs refuse it (HTTP 400, their error), consuming no step.

Several agents at once (best-of-N) each play their own script when the server is given
`conversations`: a request whose history holds no tool call opens the next conversation, and a
later request continues the conversation that issued the tool calls in its history.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Literal

from engine.models.base import ModelSettings

CHAT_PATH = "/v1/chat/completions"
RESPONSES_PATH = "/v1/responses"
MODELS_PATH = "/v1/models"
PIECE_SIZE = 7
MAX_PIECES = 512
"""Long texts are cut into at most this many pieces, so large arguments stream quickly."""
TRICKLE_TEXT_DELTA = {
    "type": "response.output_text.delta",
    "item_id": "msg_scripted",
    "output_index": 0,
    "content_index": 0,
    "delta": ".",
    "logprobs": [],
    "sequence_number": 0,
}

WireApi = Literal["chat", "responses"]


@dataclass(frozen=True)
class Call:
    """A tool call to send; str arguments go out verbatim (for malformed JSON)."""

    name: str
    arguments: dict[str, Any] | str
    call_id: str | None = None

    @property
    def arguments_text(self) -> str:
        return self.arguments if isinstance(self.arguments, str) else json.dumps(self.arguments)


@dataclass(frozen=True)
class Reply:
    """One model turn: text and/or tool calls; usage is (input_tokens, output_tokens)."""

    text: str = ""
    tool_calls: list[Call] = field(default_factory=list)
    usage: tuple[int, int] = (10, 5)


@dataclass(frozen=True)
class Fail:
    """An HTTP error with OpenAI's error JSON and, when given, a Retry-After header."""

    status: int
    retry_after: float | None = None
    message: str = "scripted failure"
    param: str | None = None


@dataclass(frozen=True)
class Stall:
    """Send headers and the first event, then nothing for `seconds` (ends early on stop)."""

    seconds: float


@dataclass(frozen=True)
class Trickle:
    """Send headers, then one one-character text delta every `interval` seconds, never
    finishing (ends on stop)."""

    interval: float


@dataclass(frozen=True)
class RecordedRequest:
    """A model request as the server received it; header names are lower-case."""

    path: str
    body: dict[str, Any]
    headers: dict[str, str]

    @property
    def wire_api(self) -> WireApi:
        return "chat" if self.path == CHAT_PATH else "responses"

    def items(self) -> list[dict[str, Any]]:
        """Chat messages or Responses input items; a plain string input becomes a user item."""
        if self.wire_api == "chat":
            return list(self.body.get("messages", []))
        given = self.body.get("input", [])
        return [{"role": "user", "content": given}] if isinstance(given, str) else list(given)

    def tool_outputs(self) -> list[str]:
        """Tool results sent back to the model, in order."""
        if self.wire_api == "chat":
            return [content_text(m.get("content")) for m in self.items() if m.get("role") == "tool"]
        return [
            content_text(item.get("output"))
            for item in self.items()
            if item.get("type") == "function_call_output"
        ]

    def call_ids(self) -> set[str]:
        """The ids of the tool calls and tool results in the history."""
        if self.wire_api == "chat":
            calls = [
                call.get("id", "")
                for message in self.items()
                for call in message.get("tool_calls") or []
            ]
            results = [message.get("tool_call_id", "") for message in self.items()]
            return {call_id for call_id in calls + results if call_id}
        return {str(item["call_id"]) for item in self.items() if item.get("call_id")}

    def unanswered_call(self) -> Fail | None:
        """The 400 the real API answers to a tool call without its result; None when every
        call has one."""
        if self.wire_api == "chat":
            return chat_unanswered_call(self.items())
        items = self.items()
        outputs = {
            item.get("call_id") for item in items if item.get("type") == "function_call_output"
        }
        calls = [item.get("call_id") for item in items if item.get("type") == "function_call"]
        missing = [call_id for call_id in calls if call_id not in outputs]
        if not missing:
            return None
        return Fail(
            400, message=f"No tool output found for function call {missing[0]}.", param="input"
        )

    def last_user_text(self) -> str | None:
        users = [item for item in self.items() if item.get("role") == "user"]
        return content_text(users[-1].get("content")) if users else None


Outcome = Reply | Fail | Stall | Trickle
Step = Outcome | Callable[[RecordedRequest], Outcome]


@dataclass
class Conversation:
    """One agent's own script and the tool call ids the server gave it so far."""

    steps: deque[Step]
    call_ids: set[str] = field(default_factory=set)


def chat_unanswered_call(messages: list[dict[str, Any]]) -> Fail | None:
    """Chat Completions' 400 for an assistant tool call not followed by its tool message."""
    for index, message in enumerate(messages):
        following = messages[index + 1 :]
        replies = list(itertools.takewhile(lambda m: m.get("role") == "tool", following))
        answered = {reply.get("tool_call_id") for reply in replies}
        calls = [call.get("id") for call in message.get("tool_calls") or []]
        missing = [str(call_id) for call_id in calls if call_id not in answered]
        if missing:
            return Fail(
                400,
                message=(
                    "An assistant message with 'tool_calls' must be followed by tool messages "
                    "responding to each 'tool_call_id'. The following tool_call_ids did not "
                    f"have response messages: {', '.join(missing)}"
                ),
                param=f"messages.[{index + 1 + len(replies)}].role",
            )
    return None


def content_text(content: Any) -> str:
    """Text of a message content: a string or a list of text parts."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(part.get("text", "") for part in content if isinstance(part, dict))
    return ""


def pieces(text: str) -> list[str]:
    size = max(PIECE_SIZE, -(-len(text) // MAX_PIECES))
    return [text[start : start + size] for start in range(0, len(text), size)]


def error_body(status: int, message: str, param: str | None = None) -> dict[str, Any]:
    if status == 429:
        kind, code = "requests", "rate_limit_exceeded"
    elif status >= 500:
        kind, code = "server_error", "server_error"
    else:
        kind, code = "invalid_request_error", None
    return {"error": {"message": message, "type": kind, "param": param, "code": code}}


class ChatWire:
    """Chat Completions chunks and completions for a Reply."""

    def __init__(self, model: str, call_ids: list[str]) -> None:
        self.model = model
        self.call_ids = call_ids
        self.created = int(time.time())

    def chunk(self, delta: dict[str, Any], finish_reason: str | None = None) -> dict[str, Any]:
        choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}
        return self.envelope("chat.completion.chunk", choices=[choice])

    def envelope(self, kind: str, **fields: Any) -> dict[str, Any]:
        return {
            "id": "chatcmpl-scripted",
            "object": kind,
            "created": self.created,
            "model": self.model,
            **fields,
        }

    def first_chunk(self) -> dict[str, Any]:
        return self.chunk({"role": "assistant", "content": ""})

    def stream(self, reply: Reply, include_usage: bool) -> list[dict[str, Any]]:
        chunks = [self.first_chunk(), *(self.chunk({"content": p}) for p in pieces(reply.text))]
        for index, (call, call_id) in enumerate(zip(reply.tool_calls, self.call_ids, strict=True)):
            function = {"name": call.name, "arguments": ""}
            head = {"index": index, "id": call_id, "type": "function", "function": function}
            chunks.append(self.chunk({"tool_calls": [head]}))
            chunks.extend(
                self.chunk({"tool_calls": [{"index": index, "function": {"arguments": p}}]})
                for p in pieces(call.arguments_text)
            )
        chunks.append(self.chunk({}, finish_reason(reply)))
        if include_usage:
            chunks.append(self.envelope("chat.completion.chunk", choices=[], usage=usage(reply)))
        return chunks

    def completion(self, reply: Reply) -> dict[str, Any]:
        message: dict[str, Any] = {"role": "assistant", "content": reply.text or None}
        if reply.tool_calls:
            message["tool_calls"] = [
                {
                    "id": call_id,
                    "type": "function",
                    "function": {"name": call.name, "arguments": call.arguments_text},
                }
                for call, call_id in zip(reply.tool_calls, self.call_ids, strict=True)
            ]
        choice = {"index": 0, "message": message, "finish_reason": finish_reason(reply)}
        return self.envelope("chat.completion", choices=[choice], usage=usage(reply))


def finish_reason(reply: Reply) -> str:
    return "tool_calls" if reply.tool_calls else "stop"


def usage(reply: Reply) -> dict[str, Any]:
    prompt, completion = reply.usage
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
        "prompt_tokens_details": {"cached_tokens": 0},
    }


class ResponsesWire:
    """Responses API events and response objects for a Reply."""

    def __init__(self, model: str, call_ids: list[str], response_id: str) -> None:
        self.model = model
        self.call_ids = call_ids
        self.response_id = response_id
        self.created = int(time.time())

    def response(
        self, status: str, output: list[dict[str, Any]], reply: Reply | None
    ) -> dict[str, Any]:
        return {
            "id": self.response_id,
            "object": "response",
            "created_at": self.created,
            "status": status,
            "model": self.model,
            "output": output,
            "parallel_tool_calls": True,
            "tool_choice": "auto",
            "tools": [],
            "error": None,
            "incomplete_details": None,
            "instructions": None,
            "usage": responses_usage(reply) if reply is not None else None,
        }

    def first_events(self) -> list[dict[str, Any]]:
        return [{"type": "response.created", "response": self.response("in_progress", [], None)}]

    def output_items(self, reply: Reply) -> list[dict[str, Any]]:
        items = [message_item(reply.text)] if reply.text else []
        return items + [
            {
                "type": "function_call",
                "id": f"fc_{call_id}",
                "call_id": call_id,
                "name": call.name,
                "arguments": call.arguments_text,
                "status": "completed",
            }
            for call, call_id in zip(reply.tool_calls, self.call_ids, strict=True)
        ]

    def stream(self, reply: Reply) -> list[dict[str, Any]]:
        output = self.output_items(reply)
        events = self.first_events()
        for index, item in enumerate(output):
            events.extend(item_events(index, item))
        events.append(
            {"type": "response.completed", "response": self.response("completed", output, reply)}
        )
        return [{**event, "sequence_number": n} for n, event in enumerate(events)]


def message_item(text: str) -> dict[str, Any]:
    part = {"type": "output_text", "text": text, "annotations": []}
    return {
        "type": "message",
        "id": "msg_scripted",
        "role": "assistant",
        "status": "completed",
        "content": [part],
    }


def item_events(index: int, item: dict[str, Any]) -> list[dict[str, Any]]:
    """output_item.added, the deltas, output_item.done for one output item."""
    if item["type"] == "message":
        started = {**item, "status": "in_progress", "content": []}
        text = item["content"][0]["text"]
        deltas = [
            {
                "type": "response.output_text.delta",
                "item_id": item["id"],
                "output_index": index,
                "content_index": 0,
                "delta": p,
                "logprobs": [],
            }
            for p in pieces(text)
        ]
    else:
        started = {**item, "status": "in_progress", "arguments": ""}
        deltas = [
            {
                "type": "response.function_call_arguments.delta",
                "item_id": item["id"],
                "output_index": index,
                "delta": p,
            }
            for p in pieces(item["arguments"])
        ]
    return [
        {"type": "response.output_item.added", "output_index": index, "item": started},
        *deltas,
        {"type": "response.output_item.done", "output_index": index, "item": item},
    ]


def responses_usage(reply: Reply) -> dict[str, Any]:
    prompt, completion = reply.usage
    return {
        "input_tokens": prompt,
        "output_tokens": completion,
        "total_tokens": prompt + completion,
        "input_tokens_details": {"cached_tokens": 0, "cache_write_tokens": 0},
        "output_tokens_details": {"reasoning_tokens": 0},
    }


class ScriptedModelServer:
    """Serves the script on 127.0.0.1, one step per model request; use as a context manager."""

    def __init__(
        self,
        script: Iterable[Step] = (),
        *,
        conversations: Iterable[Iterable[Step]] = (),
        max_stall: float = 30.0,
        models: Iterable[str] = ("scripted-codex",),
        api_key: str | None = None,
    ) -> None:
        self.max_stall = max_stall
        self.models = list(models)
        """What `GET /v1/models` lists."""
        self.api_key = api_key
        """When set, `GET /v1/models` refuses any other bearer token with the real 401."""
        self.model_lists: list[dict[str, str]] = []
        """The headers of each `GET /v1/models`."""
        self.step_errors: list[BaseException] = []
        self.rejections: list[str] = []
        """Why requests were refused as the real APIs refuse them (a tool call without its
        result); leaving the context raises AssertionError unless this was emptied."""
        self._script: deque[Step] = deque(script)
        self._unopened = deque(Conversation(deque(steps)) for steps in conversations)
        self._conversations: list[Conversation] = []
        self._requests: list[RecordedRequest] = []
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self.stopping = threading.Event()
        self._http: _ScriptedHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        if self._http is None:
            raise RuntimeError("ScriptedModelServer is not started")
        return f"http://127.0.0.1:{self._http.server_address[1]}/v1"

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._requests)

    @property
    def remaining_steps(self) -> int:
        with self._lock:
            conversations = [*self._unopened, *self._conversations]
            return len(self._script) + sum(len(c.steps) for c in conversations)

    def add(self, *steps: Step) -> None:
        with self._lock:
            self._script.extend(steps)

    def start(self) -> ScriptedModelServer:
        self._http = _ScriptedHTTPServer(("127.0.0.1", 0), _Handler, self)
        self._thread = threading.Thread(
            target=self._http.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self.stopping.set()
        if self._http is not None:
            self._http.shutdown()
            self._http.server_close()
        if self._thread is not None:
            self._thread.join()

    def __enter__(self) -> ScriptedModelServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()
        if exc_type is None and self.step_errors:
            raise AssertionError("a script step raised") from self.step_errors[0]
        if exc_type is None and self.rejections:
            raise AssertionError(f"a model request was refused: {self.rejections[0]}")

    def take_step(self, request: RecordedRequest) -> Outcome:
        """Record the request and resolve the next step; a 500 Fail when none is left, and a
        400 Fail, consuming no step, when it carries a tool call without its result."""
        with self._lock:
            self._requests.append(request)
            unanswered = request.unanswered_call()
            if unanswered is not None:
                self.rejections.append(unanswered.message)
                return unanswered
            number = len(self._requests)
            conversation = self._conversation(request)
            steps = self._script if conversation is None else conversation.steps
            step = steps.popleft() if steps else None
        if step is None:
            message = f"ScriptedModelServer: script exhausted at request #{number} ({request.path})"
            return Fail(500, message=message)
        outcome = self.resolve(step, request)
        if conversation is not None and isinstance(outcome, Reply):
            return self._name_calls(outcome, conversation)
        return outcome

    def _conversation(self, request: RecordedRequest) -> Conversation | None:
        """The conversation the request belongs to; None without conversations or a match."""
        if not self._unopened and not self._conversations:
            return None
        call_ids = request.call_ids()
        if not call_ids and self._unopened:
            self._conversations.append(self._unopened.popleft())
            return self._conversations[-1]
        return next((c for c in self._conversations if c.call_ids & call_ids), None)

    def _name_calls(self, reply: Reply, conversation: Conversation) -> Reply:
        """The reply with an id on each tool call, recorded as the conversation's."""
        calls = [
            replace(call, call_id=call.call_id or f"call_{next(self._ids)}")
            for call in reply.tool_calls
        ]
        with self._lock:
            conversation.call_ids.update(str(call.call_id) for call in calls)
        return replace(reply, tool_calls=calls)

    def resolve(self, step: Step, request: RecordedRequest) -> Outcome:
        if not callable(step):
            return step
        try:
            return step(request)
        except Exception as error:
            self.step_errors.append(error)
            return Fail(500, message=f"ScriptedModelServer: script step raised {error!r}")

    def call_ids(self, reply: Reply) -> list[str]:
        return [call.call_id or f"call_{next(self._ids)}" for call in reply.tool_calls]

    def response_id(self) -> str:
        return f"resp_{next(self._ids)}"

    def wait_while_stalled(self, seconds: float) -> None:
        self.stopping.wait(min(seconds, self.max_stall))


class _ScriptedHTTPServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(
        self,
        address: tuple[str, int],
        handler: type[BaseHTTPRequestHandler],
        scripted: ScriptedModelServer,
    ) -> None:
        super().__init__(address, handler)
        self.scripted = scripted


class _Handler(BaseHTTPRequestHandler):
    server: _ScriptedHTTPServer

    def log_message(self, format: str, *args: Any) -> None:
        """Keep test output quiet."""

    def do_GET(self) -> None:
        """`GET /v1/models`, as the real APIs answer it."""
        scripted = self.server.scripted
        if self.path != MODELS_PATH:
            self.send_json(404, error_body(404, f"no route for GET {self.path}"))
            return
        headers = self.recorded_headers()
        with scripted._lock:
            scripted.model_lists.append(headers)
        if scripted.api_key is not None and headers.get("authorization") != (
            f"Bearer {scripted.api_key}"
        ):
            self.send_json(401, error_body(401, "Incorrect API key provided"))
            return
        models = [
            {"id": name, "object": "model", "created": 0, "owned_by": "scripted"}
            for name in scripted.models
        ]
        self.send_json(200, {"object": "list", "data": models})

    def do_POST(self) -> None:
        try:
            self.handle_model_request()
        except (BrokenPipeError, ConnectionResetError):
            return

    def handle_model_request(self) -> None:
        if self.path not in (CHAT_PATH, RESPONSES_PATH):
            self.send_json(404, error_body(404, f"no route for POST {self.path}"))
            return
        request = RecordedRequest(self.path, self.read_json(), self.recorded_headers())
        outcome = self.server.scripted.take_step(request)
        if isinstance(outcome, Fail):
            self.send_failure(outcome)
        elif isinstance(outcome, Stall):
            self.send_stall(request, outcome)
        elif isinstance(outcome, Trickle):
            self.send_trickle(request, outcome)
        elif request.body.get("stream"):
            self.send_events(request, self.reply_events(request, outcome))
        else:
            self.send_json(200, self.reply_object(request, outcome))

    def read_json(self) -> dict[str, Any]:
        raw = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        try:
            parsed = json.loads(raw or b"{}")
        except json.JSONDecodeError:
            return {}
        return parsed if isinstance(parsed, dict) else {}

    def recorded_headers(self) -> dict[str, str]:
        return {name.lower(): value for name, value in self.headers.items()}

    def chat_wire(self, request: RecordedRequest, reply: Reply) -> ChatWire:
        model = str(request.body.get("model", ""))
        return ChatWire(model, self.server.scripted.call_ids(reply))

    def responses_wire(self, request: RecordedRequest, reply: Reply) -> ResponsesWire:
        scripted = self.server.scripted
        model = str(request.body.get("model", ""))
        return ResponsesWire(model, scripted.call_ids(reply), scripted.response_id())

    def reply_events(self, request: RecordedRequest, reply: Reply) -> list[dict[str, Any]]:
        if request.wire_api == "chat":
            options = request.body.get("stream_options") or {}
            return self.chat_wire(request, reply).stream(reply, bool(options.get("include_usage")))
        return self.responses_wire(request, reply).stream(reply)

    def reply_object(self, request: RecordedRequest, reply: Reply) -> dict[str, Any]:
        if request.wire_api == "chat":
            return self.chat_wire(request, reply).completion(reply)
        wire = self.responses_wire(request, reply)
        return wire.response("completed", wire.output_items(reply), reply)

    def send_failure(self, fail: Fail) -> None:
        headers = {} if fail.retry_after is None else {"Retry-After": f"{fail.retry_after:g}"}
        self.send_json(fail.status, error_body(fail.status, fail.message, fail.param), headers)

    def send_stall(self, request: RecordedRequest, stall: Stall) -> None:
        empty = Reply()
        if request.wire_api == "chat":
            first = [self.chat_wire(request, empty).first_chunk()]
        else:
            first = self.responses_wire(request, empty).first_events()
        self.start_event_stream()
        self.write_events(first, request.wire_api)
        self.server.scripted.wait_while_stalled(stall.seconds)

    def send_trickle(self, request: RecordedRequest, trickle: Trickle) -> None:
        self.start_event_stream()
        scripted = self.server.scripted
        while not scripted.stopping.wait(trickle.interval):
            if request.wire_api == "chat":
                delta = [self.chat_wire(request, Reply()).chunk({"content": "."})]
            else:
                delta = [TRICKLE_TEXT_DELTA]
            self.write_events(delta, request.wire_api)

    def send_json(
        self, status: int, body: dict[str, Any], headers: dict[str, str] | None = None
    ) -> None:
        payload = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)

    def start_event_stream(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.end_headers()

    def send_events(self, request: RecordedRequest, events: list[dict[str, Any]]) -> None:
        self.start_event_stream()
        self.write_events(events, request.wire_api)
        if request.wire_api == "chat":
            self.write_sse("data: [DONE]\n\n")

    def write_events(self, events: list[dict[str, Any]], wire_api: WireApi) -> None:
        for event in events:
            prefix = "" if wire_api == "chat" else f"event: {event['type']}\n"
            self.write_sse(f"{prefix}data: {json.dumps(event)}\n\n")

    def write_sse(self, text: str) -> None:
        self.wfile.write(text.encode())
        self.wfile.flush()


def fast_settings(
    server: ScriptedModelServer, wire_api: WireApi, **overrides: Any
) -> ModelSettings:
    """ModelSettings aimed at `server`, with short timeouts and delays so tests stay fast."""
    defaults: dict[str, Any] = {
        "model": "scripted-model",
        "wire_api": wire_api,
        "api_key": "test-key",
        "base_url": server.base_url,
        "max_retries": 2,
        "stream_idle_timeout": 5.0,
        "request_timeout": 10.0,
        "retry_initial_delay": 0.01,
    }
    return ModelSettings(**{**defaults, **overrides})
