"""Object keys and download file names.

A key is the SHA-256 of the content in lowercase hex and nothing else, so a key can never name
a path outside the store (no ``/``, ``..`` or NUL can get through).
"""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import quote

from forgekit.errors import BadRequest

_KEY_RE = re.compile(r"[0-9a-f]{64}")
MAX_FILENAME_CHARS = 255


class InvalidObjectKey(BadRequest):
    slug, title = "invalid-object-key", "Invalid object key"


def is_valid_key(key: str) -> bool:
    """``True`` when ``key`` is 64 lowercase hex characters."""
    return _KEY_RE.fullmatch(key) is not None


def validate_key(key: str) -> str:
    """Return ``key`` or raise :class:`InvalidObjectKey`."""
    if not is_valid_key(key):
        raise InvalidObjectKey("An object key is 64 lowercase hexadecimal characters.")
    return key


def safe_filename(name: str | None) -> str | None:
    """Reduce a user-supplied name to a safe download file name (``None`` if nothing is left).

    Directory parts and control characters are dropped: browsers are lenient, and a name
    like ``../../x`` or one with a CR/LF must not reach a header.
    """
    if name is None:
        return None
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    cleaned = "".join(ch for ch in base if unicodedata.category(ch)[0] != "C").strip()
    cleaned = cleaned[:MAX_FILENAME_CHARS]
    return cleaned if cleaned not in ("", ".", "..") else None


def content_disposition(filename: str | None) -> str:
    """An ``attachment`` Content-Disposition value (RFC 6266, ``filename*`` for non-ASCII)."""
    if filename is None:
        return "attachment"
    ascii_name = filename.encode("ascii", "replace").decode().replace('"', "_").replace("?", "_")
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename, safe='')}"
