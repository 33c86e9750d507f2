"""Signed order tokens: how a guest (no account) reaches the order they placed.

The token is an HMAC-SHA256 of the order id under the kit's secret key, with its own purpose
label so that no other signature of the platform can stand in for it. It names one order and
grants what its buyer may do: read it, pay it, capture the payment.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import uuid

_PURPOSE = b"shop.guest-order.v1\n"


def order_token(secret: str, order_id: uuid.UUID) -> str:
    """The token of ``order_id`` (43 URL-safe characters)."""
    mac = hmac.new(secret.encode(), _PURPOSE + str(order_id).encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).rstrip(b"=").decode()


def token_matches(secret: str, order_id: uuid.UUID, token: str) -> bool:
    """Whether ``token`` is ``order_id``'s (constant-time)."""
    return hmac.compare_digest(order_token(secret, order_id).encode(), token.encode())
