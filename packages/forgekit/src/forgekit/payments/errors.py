"""Errors of the payment port: what a caller can act on, whichever provider is behind it.

:class:`ProviderUnavailable` is the only retryable one: retry it with the *same* idempotency key
so that a request that did reach the provider is not performed twice.
"""

from __future__ import annotations

from typing import Any


class PaymentError(Exception):
    """Base of every payment error; ``code`` is the provider's machine-readable code."""

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        status: int | None = None,
        request_id: str | None = None,
        body: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.status = status
        self.request_id = request_id
        self.body = body or {}


class CardDeclined(PaymentError):
    """The card was declined; ``decline_code`` says why, ``payment_intent_id`` names the
    intent left in ``requires_payment_method`` when a charge was attempted."""

    def __init__(
        self,
        message: str,
        *,
        decline_code: str | None = None,
        payment_intent_id: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(message, **kwargs)
        self.decline_code = decline_code
        self.payment_intent_id = payment_intent_id


class ProviderUnavailable(PaymentError):
    """Timeout, connection failure, rate limit or 5xx: the outcome is unknown, retry with the
    same idempotency key."""


class IdempotencyConflict(PaymentError):
    """The idempotency key was used before with different parameters."""


class InvalidRequest(PaymentError):
    """The provider refused the request as invalid (unknown id, wrong state, bad amount)."""


class AuthenticationFailed(PaymentError):
    """The API key was refused."""


class InvalidSignature(PaymentError):
    """A webhook's signature header is missing, malformed, stale or does not match."""


class TransferFailed(InvalidRequest):
    """The provider refused a transfer (insufficient platform balance, unknown or disabled
    destination): no money moved. ``transfer_id`` names the failed transfer when the
    provider kept one. Definitive for its idempotency key: a retry needs a new key."""

    def __init__(self, message: str, *, transfer_id: str | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.transfer_id = transfer_id
