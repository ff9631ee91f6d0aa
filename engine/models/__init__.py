"""Model clients for both OpenAI wire APIs, behind one small interface."""

from __future__ import annotations

from engine.config import DEMO_MODEL
from engine.models.base import ModelClient, ModelError, ModelSettings
from engine.models.chat import ChatModelClient
from engine.models.responses import ResponsesModelClient

__all__ = ["ChatModelClient", "ResponsesModelClient", "make_model_client"]


def make_model_client(settings: ModelSettings) -> ModelClient:
    """The client for settings.wire_api (the offline demo model for DEMO_MODEL); ModelError at
    once when no API key is available."""
    if settings.model == DEMO_MODEL:
        from engine.models.demo import DemoModelClient

        return DemoModelClient()
    if settings.wire_api == "chat":
        return ChatModelClient(settings)
    if settings.wire_api == "responses":
        return ResponsesModelClient(settings)
    raise ModelError(
        f"Unknown wire API {settings.wire_api!r}: use 'responses' or 'chat' (TASKYARD_WIRE_API)."
    )
