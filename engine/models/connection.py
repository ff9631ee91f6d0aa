"""Builds the openai client from ModelSettings, with the SDK's own retries turned off."""

from __future__ import annotations

import os

from openai import AsyncOpenAI, Timeout

from engine.models.base import ModelSettings
from engine.models.errors import Endpoint, missing_api_key_error

CONNECT_TIMEOUT = 10.0


def resolve_api_key(settings: ModelSettings) -> str:
    """The configured key, else OPENAI_API_KEY; ModelError when neither is set."""
    api_key = settings.api_key or os.environ.get("OPENAI_API_KEY")
    if not api_key:
        raise missing_api_key_error()
    return api_key


def open_client(settings: ModelSettings) -> AsyncOpenAI:
    """An AsyncOpenAI client; base_url None means OPENAI_BASE_URL or the SDK default."""
    timeout = Timeout(
        settings.request_timeout, connect=min(CONNECT_TIMEOUT, settings.request_timeout)
    )
    return AsyncOpenAI(
        api_key=resolve_api_key(settings),
        base_url=settings.base_url,
        max_retries=0,
        timeout=timeout,
    )


def endpoint_of(client: AsyncOpenAI, settings: ModelSettings) -> Endpoint:
    return Endpoint(
        model=settings.model,
        wire_api=settings.wire_api,
        base_url=str(client.base_url).rstrip("/"),
        request_timeout=settings.request_timeout,
    )
