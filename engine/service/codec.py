"""Typed values to JSON and back, for the service protocol.

Only the types named in WIRE_TYPES cross the wire: each is rebuilt through its own constructor,
so its checks run on the receiving side too. Events keep their one serialisation (`to_dict`, as
`taskyard run --json` prints them). A type is imported only when a value of it arrives, so a thin
client loads no more of the engine than the answers it reads.
"""

from __future__ import annotations

import base64
import dataclasses
import enum
import importlib
from pathlib import Path
from typing import Any

WIRE_TYPES = frozenset(
    {
        "engine.views.accept:AcceptRequest",
        "engine.views.accept:Accepted",
        "engine.views.accept:Choice",
        "engine.views.accept:Conflict",
        "engine.views.accept:Delivery",
        "engine.views.diff:FileDiff",
        "engine.views.diff:Hunk",
        "engine.views.hosts:ContainerRemoval",
        "engine.views.hosts:FileRemoval",
        "engine.views.hosts:GcReport",
        "engine.views.hosts:HostCheck",
        "engine.views.hosts:HostStatus",
        "engine.views.hosts:SkippedHost",
        "engine.views.request:TaskRequest",
        "engine.views.request:UncommittedWork",
        "engine.views.result:CheckRun",
        "engine.views.result:Evidence",
        "engine.views.result:RankedAttempt",
        "engine.views.safety:Finding",
        "engine.views.service:ServiceStatus",
        "engine.views.task:CommandRecord",
        "engine.views.task:TaskRecord",
        "engine.views.task:TaskStatus",
    }
)
"""Every dataclass and enum that may cross the wire, as module:name."""

WIRE_ERRORS = frozenset(
    {
        "engine.errors:EngineError",
        "engine.views.accept:BranchTaken",
        "engine.views.accept:WorktreeConflict",
        "engine.views.diff:DiffFormatError",
        "engine.views.safety:SecretInResult",
        "engine.views.safety:UnsafeResult",
        "engine.views.task:InvalidTransition",
    }
)
"""The errors a call may raise on the client as they were raised in the service."""


EVENTS_MODULE = "engine.views.events"
"""Events cross the wire in their own form (`Event.to_dict`), not field by field."""


class CodecError(ValueError):
    """A value that is not of a wire type, or data that does not decode to one."""


def type_name(cls: type) -> str:
    return f"{cls.__module__}:{cls.__qualname__}"


def _load(name: str, allowed: frozenset[str]) -> Any:
    if name not in allowed:
        raise CodecError(f"{name!r} is not a type the service protocol carries")
    module, _, qualname = name.partition(":")
    return getattr(importlib.import_module(module), qualname)


def encode(value: Any) -> Any:
    """A JSON-ready form of `value`: plain JSON as it is, wire types tagged with their name."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, enum.Enum):
        return {"$enum": _checked(type(value)), "value": value.value}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        if type(value).__module__ == EVENTS_MODULE:
            return {"$event": value.to_dict()}  # type: ignore[attr-defined]
        fields = {f.name: encode(getattr(value, f.name)) for f in dataclasses.fields(value)}
        return {"$type": _checked(type(value)), "fields": fields}
    return _encode_container(value)


def _encode_container(value: Any) -> Any:
    if isinstance(value, list):
        return [encode(item) for item in value]
    if isinstance(value, tuple):
        return {"$tuple": [encode(item) for item in value]}
    if isinstance(value, set | frozenset):
        return {"$set": [encode(item) for item in value]}
    if isinstance(value, dict):
        if not all(isinstance(key, str) for key in value):
            return {"$pairs": [[encode(k), encode(v)] for k, v in value.items()]}
        return {key: encode(item) for key, item in value.items()}
    if isinstance(value, bytes):
        return {"$bytes": base64.b64encode(value).decode("ascii")}
    if isinstance(value, Path):
        return {"$path": str(value)}
    raise CodecError(f"a {type(value).__name__} cannot cross the service protocol")


def _checked(cls: type) -> str:
    name = type_name(cls)
    if name not in WIRE_TYPES:
        raise CodecError(f"{name} is not a type the service protocol carries")
    return name


def decode(data: Any) -> Any:
    """The value `encode` made `data` from."""
    if isinstance(data, list):
        return [decode(item) for item in data]
    if not isinstance(data, dict):
        return data
    for tag, rebuild in _TAGS.items():
        if tag in data:
            try:
                return rebuild(data)
            except (TypeError, ValueError, KeyError) as error:
                raise CodecError(f"bad {tag} value: {error}") from None
    return {key: decode(item) for key, item in data.items()}


def _dataclass(data: dict[str, Any]) -> Any:
    cls = _load(data["$type"], WIRE_TYPES)
    fields = {name: decode(item) for name, item in data["fields"].items()}
    return cls(**fields)


def _event(data: dict[str, Any]) -> Any:
    from engine.views.events import event_from_dict

    return event_from_dict(data["$event"])


_TAGS: dict[str, Any] = {
    "$type": _dataclass,
    "$event": _event,
    "$enum": lambda data: _load(data["$enum"], WIRE_TYPES)(data["value"]),
    "$tuple": lambda data: tuple(decode(item) for item in data["$tuple"]),
    "$set": lambda data: {decode(item) for item in data["$set"]},
    "$pairs": lambda data: {decode(k): decode(v) for k, v in data["$pairs"]},
    "$bytes": lambda data: base64.b64decode(data["$bytes"], validate=True),
    "$path": lambda data: Path(data["$path"]),
}


def encode_error(error: Exception) -> dict[str, Any]:
    """An error the client raises again as the same class, with the same message and fields."""
    name = type_name(type(error))
    if name not in WIRE_ERRORS:
        raise CodecError(f"{name} is not an error the service protocol carries")
    fields = {key: encode(value) for key, value in vars(error).items()}
    return {"kind": name, "message": str(error), "fields": fields}


def decode_error(data: dict[str, Any]) -> Exception:
    """The error `encode_error` made `data` from."""
    cls = _load(data["kind"], WIRE_ERRORS)
    error: Exception = cls.__new__(cls)
    Exception.__init__(error, data["message"])
    for key, value in data.get("fields", {}).items():
        setattr(error, key, decode(value))
    return error
