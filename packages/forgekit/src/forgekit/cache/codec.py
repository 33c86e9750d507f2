"""JSON encoding of cached values.

The cache stores JSON text only. Pickle is never used: a cache shared with other processes is
an input, and unpickling an input is code execution for whoever can write to Redis.
"""

from __future__ import annotations

import datetime as dt
import decimal
import enum
import json
import uuid
from typing import Any

from pydantic import BaseModel


def _default(value: Any) -> Any:
    # The few non-JSON types that services put in cached payloads all the time; each maps to
    # its canonical JSON form, so a cached value reads back as what a JSON API would answer.
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    raise TypeError(
        f"Object of type {type(value).__name__} is not JSON serializable; "
        "the cache stores JSON values only"
    )


def encode(value: Any) -> str:
    """Serialise ``value`` to compact JSON; raise ``TypeError`` for a non-JSON value."""
    return json.dumps(value, default=_default, separators=(",", ":"), ensure_ascii=False)


def decode(text: str | bytes) -> Any:
    """Parse JSON text written by :func:`encode`."""
    return json.loads(text)
