"""Verifying a payment provider's webhook: ``Stripe-Signature: t=<unix>,v1=<hex>[,v1=<hex>]``.

The scheme is the kit's own (:mod:`forgekit.webhooks.signing`): HMAC-SHA256 under the
endpoint's secret over ``f"{t}.{payload}"``, compared in constant time, the timestamp within
``tolerance_s`` of now. Several ``v1`` values are accepted (the provider sends one per active
secret while a secret is being rolled). Verify the raw body before parsing it.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from forgekit.payments.errors import InvalidSignature
from forgekit.webhooks.signing import DEFAULT_TOLERANCE_S, verify_signature

__all__ = ["SIGNATURE_HEADER", "InvalidSignature", "ProviderEvent", "verify_event"]

#: The header the provider (and the fake) send the signature in.
SIGNATURE_HEADER = "Stripe-Signature"


class ProviderEvent(BaseModel):
    """One verified event: its id (deduplicate on it: delivery is at least once), type,
    creation time and the object it is about (as the provider sent it)."""

    model_config = ConfigDict(frozen=True)

    id: str
    type: str
    created: int
    data_object: dict[str, Any]


def verify_event(
    payload: bytes,
    signature_header: str,
    secret: str,
    tolerance_s: int = DEFAULT_TOLERANCE_S,
    *,
    now: float | None = None,
) -> ProviderEvent:
    """The event ``payload`` carries, once ``signature_header`` proves it came from the
    holder of ``secret`` within ``tolerance_s``; raises :class:`InvalidSignature` otherwise."""
    if not secret:
        raise InvalidSignature("no webhook secret configured")
    if not verify_signature(secret, payload, signature_header, tolerance_s=tolerance_s, now=now):
        raise InvalidSignature("webhook signature does not verify")
    try:
        body = json.loads(payload)
        return ProviderEvent(
            id=body["id"],
            type=body["type"],
            created=body["created"],
            data_object=body["data"]["object"],
        )
    except (ValueError, TypeError, KeyError, ValidationError) as exc:
        raise InvalidSignature("signed webhook payload is not an event") from exc
