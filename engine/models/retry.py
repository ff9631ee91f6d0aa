"""The retry policy both wire APIs share: what to retry, how long to wait, idle timeouts."""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import TypeVar

from openai import APIConnectionError, APIStatusError

from engine.models.base import RetryCallback, RetryNotice
from engine.models.errors import (
    MODEL_CALL_FAILURES,
    Endpoint,
    ModelCallFailure,
    RequestTimedOut,
    StreamFailed,
    StreamStalled,
    final_error,
    is_quota_exhausted,
    short_reason,
)

T = TypeVar("T")

RETRYABLE_STATUSES = frozenset({408, 409, 429})
MAX_SERVER_DELAY = 60.0
MAX_BACKOFF_DELAY = 30.0


def is_retryable(error: ModelCallFailure) -> bool:
    if isinstance(error, APIStatusError):
        status = error.status_code
        return (status in RETRYABLE_STATUSES or status >= 500) and not is_quota_exhausted(error)
    if isinstance(error, StreamFailed):
        return error.retryable
    return isinstance(error, APIConnectionError | StreamStalled | RequestTimedOut)


def server_retry_delay(headers: Mapping[str, str], now: datetime | None = None) -> float | None:
    """The delay the server asked for via retry-after-ms or Retry-After, capped; None if absent."""
    delay = milliseconds_header(headers.get("retry-after-ms"))
    if delay is None:
        delay = retry_after_header(headers.get("retry-after"), now or datetime.now(UTC))
    return None if delay is None else min(max(delay, 0.0), MAX_SERVER_DELAY)


def milliseconds_header(value: str | None) -> float | None:
    try:
        return float(value) / 1000 if value is not None else None
    except ValueError:
        return None


def retry_after_header(value: str | None, now: datetime) -> float | None:
    """Retry-After as seconds or as an HTTP date."""
    if value is None:
        return None
    try:
        return float(value)
    except ValueError:
        pass
    try:
        return (parsedate_to_datetime(value) - now).total_seconds()
    except (TypeError, ValueError):
        return None


def backoff_delay(attempt: int, initial_delay: float) -> float:
    """Exponential backoff for retry `attempt` (1-based) with up to 25% jitter taken off."""
    delay = min(initial_delay * 2.0 ** (attempt - 1), MAX_BACKOFF_DELAY)
    return delay * (1 - random.uniform(0, 0.25))


def retry_delay(error: ModelCallFailure, attempt: int, initial_delay: float) -> float:
    if isinstance(error, APIStatusError):
        requested = server_retry_delay(error.response.headers)
        if requested is not None:
            return requested
    return backoff_delay(attempt, initial_delay)


async def run_with_retries(
    attempt_call: Callable[[], Awaitable[T]],
    endpoint: Endpoint,
    max_retries: int,
    initial_delay: float,
    on_retry: RetryCallback | None,
) -> T:
    """Run `attempt_call` until it succeeds, retrying what is retryable; ModelError otherwise."""
    retries = 0
    while True:
        try:
            return await attempt_call()
        except MODEL_CALL_FAILURES as error:
            if retries >= max_retries or not is_retryable(error):
                raise final_error(error, retries + 1, endpoint) from None
            retries += 1
            notice = RetryNotice(
                attempt=retries,
                delay=retry_delay(error, retries, initial_delay),
                reason=short_reason(error),
            )
        if on_retry is not None:
            on_retry(notice)
        await asyncio.sleep(notice.delay)


async def within_idle_timeout(call: Awaitable[T], idle_seconds: float) -> T:
    """Await `call`, raising StreamStalled if it takes longer than the idle timeout."""
    try:
        async with asyncio.timeout(idle_seconds):
            return await call
    except TimeoutError:
        raise StreamStalled(idle_seconds) from None


async def within_request_timeout(call: Awaitable[T], seconds: float) -> T:
    """Await `call`, the whole request with its stream; RequestTimedOut past `seconds`."""
    try:
        async with asyncio.timeout(seconds):
            return await call
    except TimeoutError:
        raise RequestTimedOut(seconds) from None


async def chunks_with_idle_timeout(
    stream: AsyncIterator[T], idle_seconds: float
) -> AsyncIterator[T]:
    """Yield the stream's items; StreamStalled if the next one takes longer than the timeout."""
    while True:
        try:
            item = await within_idle_timeout(anext(stream), idle_seconds)
        except StopAsyncIteration:
            return
        except json.JSONDecodeError as error:
            raise StreamFailed(
                f"malformed event from the server ({error})", retryable=True
            ) from None
        yield item
