"""AMQP topic patterns: ``*`` matches exactly one word, ``#`` zero or more words.

The in-process bus routes with these rules so that a subscription behaves the same whether
RabbitMQ or the embedded bus delivers it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import cache, lru_cache

_WORD = re.compile(r"^[A-Za-z0-9_-]+$")


def validate_pattern(pattern: str) -> str:
    """Return ``pattern`` if it is a valid topic binding key, else raise ``ValueError``."""
    for word in pattern.split("."):
        if word not in ("*", "#") and not _WORD.match(word):
            raise ValueError(f"invalid word {word!r} in topic pattern {pattern!r}")
    return pattern


def validate_routing_key(key: str) -> str:
    """Return ``key`` if it is a valid event type (dotted words, no wildcards), else raise."""
    for word in key.split("."):
        if not _WORD.match(word):
            raise ValueError(f"invalid word {word!r} in event type {key!r}")
    return key


@lru_cache(maxsize=4096)
def topic_matches(pattern: str, routing_key: str) -> bool:
    """True when ``routing_key`` (e.g. ``analysis.completed``) matches the binding ``pattern``."""
    pat = tuple(pattern.split("."))
    key = tuple(routing_key.split("."))

    # Classic wildcard matching over words; memoised so "#.#.#" patterns stay linear-ish.
    @cache
    def match(i: int, j: int) -> bool:
        if i == len(pat):
            return j == len(key)
        if pat[i] == "#":
            # '#' takes zero words, or one word and stays.
            return match(i + 1, j) or (j < len(key) and match(i, j + 1))
        if j == len(key):
            return False
        return (pat[i] == "*" or pat[i] == key[j]) and match(i + 1, j + 1)

    return match(0, 0)


def matches_any(patterns: Iterable[str], routing_key: str) -> bool:
    """True when any of ``patterns`` matches ``routing_key``."""
    return any(topic_matches(p, routing_key) for p in patterns)
