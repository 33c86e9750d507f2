"""Pagination shared by every product: one page model, one opaque cursor codec, sort keys.

A list endpoint takes ``limit`` and either ``offset`` or the ``cursor`` of the previous page
(keyset pagination: stable while rows are added or removed) and answers a :class:`Page`.
"""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from collections.abc import Mapping
from datetime import datetime
from enum import StrEnum
from typing import Any, Generic, TypeVar

from pydantic import BaseModel

from forgekit.errors import BadRequest

T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    """One page of a listing."""

    items: list[T]
    total: int
    limit: int
    offset: int
    #: Pass as ``cursor`` to get the next page; None on the last page (or where only offsets
    #: are offered).
    next_cursor: str | None = None


class InvalidCursor(BadRequest):
    """400: a cursor that this API did not issue, or issued for another query."""

    slug, title = "invalid-cursor", "Invalid cursor"


def encode_cursor(data: Mapping[str, Any]) -> str:
    """An opaque, URL-safe cursor holding ``data`` (JSON values)."""
    raw = json.dumps(dict(data), separators=(",", ":"), sort_keys=True).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> dict[str, Any]:
    """The data of a cursor from :func:`encode_cursor`.

    The cursor is opaque to clients but not trusted: anything malformed raises
    :class:`InvalidCursor` (400), never a 500.
    """
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
    except (ValueError, UnicodeError, binascii.Error):
        raise InvalidCursor("The cursor is not valid.") from None
    if not isinstance(data, dict):
        raise InvalidCursor("The cursor is not valid.")
    return data


class SortKey(StrEnum):
    """Base of a listing's sort options: ``"name"`` ascending, ``"-name"`` descending."""

    @property
    def field(self) -> str:
        """The column sorted on."""
        return self.value.lstrip("-")

    @property
    def descending(self) -> bool:
        """True for a descending order."""
        return self.value.startswith("-")


def keyset_cursor(order: str, value: Any, last_id: uuid.UUID) -> str:
    """The cursor after the row ``(value, last_id)`` of a listing sorted by ``order``.

    ``value`` is the sort column's value (a string, or a timestamp kept as ISO 8601); the
    row id breaks ties, so the position is exact while rows are added or removed.
    """
    raw = value.isoformat() if isinstance(value, datetime) else value
    return encode_cursor({"s": order, "v": raw, "i": str(last_id)})


def read_keyset_cursor(cursor: str, order: str, *, timestamp: bool) -> tuple[Any, uuid.UUID]:
    """``(value, last_id)`` of a :func:`keyset_cursor` for the same ``order``.

    ``timestamp`` says the value is an aware timestamp. A cursor of another order, or any
    malformed one, raises :class:`InvalidCursor` (400).
    """
    data = decode_cursor(cursor)
    if not isinstance(data.get("v"), str):
        raise InvalidCursor("The cursor is not valid.")
    if data.get("s") != order:
        raise InvalidCursor("The cursor belongs to another sort order; start again.")
    try:
        last_id = uuid.UUID(str(data["i"]))
        value: Any = data["v"]
        if timestamp:
            value = datetime.fromisoformat(value)
            if value.tzinfo is None:
                raise ValueError("naive timestamp")
    except (ValueError, KeyError, TypeError):
        raise InvalidCursor("The cursor is not valid.") from None
    return value, last_id
