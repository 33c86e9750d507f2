"""Webhook signatures: ``PyForge-Signature: t=<unix>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>``.

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
"""

from __future__ import annotations

import hashlib
import hmac
import time

SIGNATURE_HEADER = "PyForge-Signature"
DELIVERY_HEADER = "PyForge-Delivery"
EVENT_HEADER = "PyForge-Event"
USER_AGENT = "PyForge-Webhooks/1"
DEFAULT_TOLERANCE_S = 300


def signature(secret: str, body: bytes, timestamp: int) -> str:
    """The hex HMAC-SHA256 of ``"<timestamp>.<body>"`` under ``secret``."""
    message = f"{timestamp}.".encode() + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def signature_header(secret: str, body: bytes, timestamp: int | None = None) -> str:
    """The ``PyForge-Signature`` header value for ``body`` sent now (or at ``timestamp``)."""
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
