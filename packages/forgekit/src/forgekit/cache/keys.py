"""Building cache keys from parts, so one entity's key can never be another's prefix.

Products keep their own key layout and lifetimes (PyForge's in ``pyforge.cache_keys``); the kit
only guarantees that a key built from parts is unambiguous.
"""

from __future__ import annotations

from uuid import UUID

Id = int | str | UUID


def key_part(value: Id) -> str:
    """``value`` as one key part; raises ``ValueError`` when empty or containing ``:``."""
    text = str(value)
    # A ':' inside an id would let one entity's key collide with another's prefix.
    if not text or ":" in text:
        raise ValueError(f"invalid cache key part {text!r}")
    return text


def cache_key(*parts: Id) -> str:
    """The key ``part1:part2:...`` (every part checked by :func:`key_part`)."""
    return ":".join(key_part(p) for p in parts)
