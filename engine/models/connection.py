"""Builds the openai client from ModelSettings, with the SDK's own retries turned off."""

from __future__ import annotations

import dataclasses
import os

from openai import APIStatusError, AsyncOpenAI, OpenAIError, Timeout

from engine.models.base import ModelError, ModelSettings
from engine.models.errors import BASE_URL_KEY, Endpoint, final_error, missing_api_key_error

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


async def list_models(settings: ModelSettings, timeout: float) -> tuple[str, list[str]]:
    """`GET /models` at the endpoint with the key: its base URL and the model ids it lists.
    ModelError saying what failed and which setting to check."""
    client = open_client(dataclasses.replace(settings, request_timeout=timeout))
    endpoint = endpoint_of(client, settings)
    try:
        page = await client.models.list()
    except APIStatusError as error:
        if error.status_code == 404:
            raise ModelError(
                f"{endpoint.base_url}/models answered HTTP 404: is {BASE_URL_KEY} (else "
                "OPENAI_BASE_URL) the API's root? It usually ends in /v1."
            ) from None
        raise final_error(error, 1, endpoint) from None
    except OpenAIError as error:
        raise final_error(error, 1, endpoint) from None
    finally:
        await client.close()
    return endpoint.base_url, [model.id for model in page.data]
