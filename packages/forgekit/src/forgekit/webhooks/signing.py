"""Webhook signatures: ``<Prefix>-Signature: t=<unix>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>``.

The timestamp is signed with the body so that a captured delivery cannot be replayed later
than the receiver's tolerance; ``v1`` names the scheme so that a future one can be sent beside
it during a migration. A receiver verifies with (Python, standard library only)::

    import hashlib, hmac, time

    def verify(secret: str, body: bytes, header: str, tolerance_s: int = 300) -> bool:
        fields = dict(p.split("=", 1) for p in header.split(",") if "=" in p)
        t, sig = fields.get("t", ""), fields.get("v1", "")
        if not t.isdigit() or abs(time.time() - int(t)) > tolerance_s:
            return False
        mac = hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256)
        return hmac.compare_digest(mac.hexdigest(), sig)

Verify the raw request body exactly as received, before parsing the JSON.

The header names are the product's (:class:`WebhookHeaders`): a receiver sees its vendor's
name on every header, and two products' deliveries cannot be mistaken for each other.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from dataclasses import dataclass

DEFAULT_TOLERANCE_S = 300


@dataclass(frozen=True)
class WebhookHeaders:
    """The names a product gives its delivery headers and its ``User-Agent``."""

    #: ``t=<unix>,v1=<hex>`` (see the module's docstring).
    signature: str
    #: The delivery id: the same on every retry of one delivery, for receivers to deduplicate.
    delivery: str
    #: The event type, so a receiver can route before parsing the body.
    event: str
    user_agent: str

    @classmethod
    def for_product(cls, header_prefix: str) -> WebhookHeaders:
        """``<prefix>-Signature``, ``<prefix>-Delivery``, ``<prefix>-Event`` and the
        ``<prefix>-Webhooks/1`` user agent."""
        return cls(
            signature=f"{header_prefix}-Signature",
            delivery=f"{header_prefix}-Delivery",
            event=f"{header_prefix}-Event",
            user_agent=f"{header_prefix}-Webhooks/1",
        )


def signature(secret: str, body: bytes, timestamp: int) -> str:
    """The hex HMAC-SHA256 of ``"<timestamp>.<body>"`` under ``secret``."""
    message = f"{timestamp}.".encode() + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def signature_header(secret: str, body: bytes, timestamp: int | None = None) -> str:
    """The signature header's value for ``body`` sent now (or at ``timestamp``)."""
    t = int(time.time()) if timestamp is None else timestamp
    return f"t={t},v1={signature(secret, body, t)}"


def verify_signature(
    secret: str,
    body: bytes,
    header: str,
    *,
    tolerance_s: int = DEFAULT_TOLERANCE_S,
    now: float | None = None,
) -> bool:
    """True when ``header`` signs ``body`` with ``secret`` within ``tolerance_s`` of ``now``."""
    fields: dict[str, list[str]] = {}
    for part in header.split(","):
        key, sep, value = part.strip().partition("=")
        if sep:
            fields.setdefault(key, []).append(value)
    stamps = fields.get("t", [])
    if len(stamps) != 1 or not stamps[0].isdigit():
        return False
    t = int(stamps[0])
    current = time.time() if now is None else now
    if abs(current - t) > tolerance_s:
        return False
    expected = signature(secret, body, t)
    return any(hmac.compare_digest(expected, candidate) for candidate in fields.get("v1", []))
