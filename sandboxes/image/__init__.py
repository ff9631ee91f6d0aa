"""taskyard's default sandbox image: its tag and its bundled Dockerfile."""

from __future__ import annotations

from importlib.resources import files

DEFAULT_IMAGE_TAG = "taskyard-sandbox:latest"


def default_image_tag() -> str:
    """The tag `taskyard image build` gives the default sandbox image."""
    return DEFAULT_IMAGE_TAG


def dockerfile_bytes() -> bytes:
    """The bundled Dockerfile that builds the default sandbox image."""
    return files(__name__).joinpath("Dockerfile").read_bytes()
