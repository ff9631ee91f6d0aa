"""Failures of a model call and the messages a person sees when it fails for good."""

from __future__ import annotations

from dataclasses import dataclass

from openai import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    OpenAIError,
)

from engine.models.base import ModelError

WIRE_API_LABELS = {"chat": "Chat Completions", "responses": "Responses"}


@dataclass(frozen=True)
class Endpoint:
    """Where a client sends its calls, for error messages."""

    model: str
    wire_api: str
    base_url: str
    request_timeout: float


class StreamStalled(Exception):
    """The server sent nothing for longer than the idle timeout."""

    def __init__(self, idle_seconds: float) -> None:
        super().__init__(f"the stream sent nothing for {idle_seconds:g}s")


class RequestTimedOut(Exception):
    """The whole request, its stream included, took longer than the request timeout."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"the request took longer than {seconds:g}s")


class StreamFailed(Exception):
    """The stream broke off or reported an error event."""

    def __init__(self, message: str, *, retryable: bool) -> None:
        super().__init__(message)
        self.retryable = retryable


MODEL_CALL_FAILURES = (OpenAIError, StreamStalled, StreamFailed, RequestTimedOut)
ModelCallFailure = OpenAIError | StreamStalled | StreamFailed | RequestTimedOut
REQUEST_TIMEOUT_KEY = "[model_client] request_timeout_seconds"
STREAM_IDLE_KEY = "[model_client] stream_idle_timeout_seconds"


API_KEY_KEY = "[model_client] api_key"
BASE_URL_KEY = "[model_client] base_url"


def missing_api_key_error() -> ModelError:
    return ModelError(
        f"OPENAI_API_KEY is not set and the config has no {API_KEY_KEY}. Export "
        f'OPENAI_API_KEY, or set {API_KEY_KEY} = "env:NAME" (or "file:PATH", "cmd:COMMAND") '
        "with `taskyard config edit`; any non-empty value works for local servers that "
        "ignore it."
    )


def server_message(error: APIStatusError) -> str:
    """The server's own error message, falling back to the client's summary."""
    body = error.body
    if isinstance(body, dict) and isinstance(body.get("message"), str) and body["message"]:
        return str(body["message"])
    if isinstance(body, str) and body:
        return body
    return error.message


def is_quota_exhausted(error: APIStatusError) -> bool:
    return error.status_code == 429 and error.code == "insufficient_quota"


def short_reason(error: ModelCallFailure) -> str:
    """One line for a retry notice."""
    if isinstance(error, APIStatusError):
        return f"HTTP {error.status_code}: {server_message(error)}"
    if isinstance(error, APIConnectionError):
        return f"{error.message} {connection_cause(error)}".strip()
    return str(error)


def connection_cause(error: APIConnectionError) -> str:
    cause = error.__cause__
    return f"({cause})" if cause is not None and str(cause) else ""


def final_error(error: ModelCallFailure, attempts: int, endpoint: Endpoint) -> ModelError:
    """Turn the last failure into a ModelError that says what happened and what to check."""
    if isinstance(error, APIStatusError):
        return ModelError(status_error_message(error, attempts, endpoint))
    if isinstance(error, APITimeoutError | RequestTimedOut):
        return ModelError(
            f"The model request to {endpoint.base_url} did not finish within "
            f"{REQUEST_TIMEOUT_KEY} = {endpoint.request_timeout:g} ({tries(attempts)}). "
            f"Check that the server is up and not overloaded, or raise {REQUEST_TIMEOUT_KEY}."
        )
    if isinstance(error, APIConnectionError):
        return ModelError(
            f"Cannot reach the model endpoint {endpoint.base_url} {connection_cause(error)} "
            f"({tries(attempts)}). Check that the server is running, that the URL is right "
            f"({BASE_URL_KEY}, else OPENAI_BASE_URL), and that no proxy or firewall blocks it."
        )
    if isinstance(error, StreamStalled):
        return ModelError(
            f"The model stream from {endpoint.base_url} stalled: {error} ({tries(attempts)}). "
            f"The server may be overloaded; try again, or raise {STREAM_IDLE_KEY}."
        )
    if isinstance(error, StreamFailed):
        return ModelError(f"The model stream from {endpoint.base_url} failed: {error}.")
    return ModelError(f"The model call to {endpoint.base_url} failed: {error}")


def status_error_message(error: APIStatusError, attempts: int, endpoint: Endpoint) -> str:
    status, message = error.status_code, server_message(error)
    if status == 401:
        return (
            f"The model endpoint {endpoint.base_url} rejected the API key (HTTP 401: {message}). "
            f"Check the key {API_KEY_KEY} names, else OPENAI_API_KEY."
        )
    if status == 403:
        return (
            f"The API key may not use model {endpoint.model!r} at {endpoint.base_url} "
            f"(HTTP 403: {message})."
        )
    if status == 404:
        return not_found_message(message, endpoint)
    if is_quota_exhausted(error):
        return (
            f"The API key's quota is exhausted (HTTP 429: {message}). Check the account's billing."
        )
    if status == 429:
        return f"Still rate limited by {endpoint.base_url} ({tries(attempts)}): {message}"
    if status >= 500:
        return (
            f"The model server {endpoint.base_url} kept failing ({tries(attempts)}; "
            f"last HTTP {status}: {message})."
        )
    return f"The model server rejected the request (HTTP {status}): {message}"


def not_found_message(message: str, endpoint: Endpoint) -> str:
    wire_api = WIRE_API_LABELS.get(endpoint.wire_api, endpoint.wire_api)
    other = "chat" if endpoint.wire_api == "responses" else "responses"
    return (
        f"Model {endpoint.model!r} or the {wire_api} API was not found at {endpoint.base_url} "
        f"(HTTP 404: {message}). Check the model name; if the server does not offer the "
        f"{wire_api} API, set TASKYARD_WIRE_API={other}."
    )


def tries(attempts: int) -> str:
    return "1 attempt" if attempts == 1 else f"{attempts} attempts"
