"""Stripe's form encoding of nested parameters: ``metadata[plan]=pro``, ``items[0][price]=…``.

The adapter encodes with :func:`encode`; the fake decodes with :func:`decode`, so both sides
of the tests speak the wire format the real provider does.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

_KEY_PART = re.compile(r"\[([^\[\]]*)\]")


def encode(params: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Flatten ``params`` into form pairs; ``None`` values are left out."""
    pairs: list[tuple[str, str]] = []
    for key, value in params.items():
        _flatten(key, value, pairs)
    return pairs


def _flatten(prefix: str, value: Any, pairs: list[tuple[str, str]]) -> None:
    if value is None:
        return
    if isinstance(value, Mapping):
        for key, item in value.items():
            _flatten(f"{prefix}[{key}]", item, pairs)
    elif isinstance(value, Sequence) and not isinstance(value, str | bytes):
        for index, item in enumerate(value):
            _flatten(f"{prefix}[{index}]", item, pairs)
    elif isinstance(value, bool):
        pairs.append((prefix, "true" if value else "false"))
    else:
        pairs.append((prefix, str(value)))


def decode(pairs: Sequence[tuple[str, str]]) -> dict[str, Any]:
    """Rebuild nested dicts from form pairs; ``a[0]`` keys stay dict keys (``"0"``)."""
    root: dict[str, Any] = {}
    for key, value in pairs:
        head, _, rest = key.partition("[")
        parts = [head, *_KEY_PART.findall("[" + rest)] if rest else [head]
        node = root
        for part in parts[:-1]:
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                raise ValueError(f"parameter {key!r} conflicts with a scalar")
            node = child
        node[parts[-1]] = value
    return root
