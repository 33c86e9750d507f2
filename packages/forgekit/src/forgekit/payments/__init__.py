"""The kit's payment port: one interface over a payment provider (Stripe), a Stripe-compatible
fake for tests and local runs, and webhook verification.

Products code against :class:`PaymentProvider` and get a :class:`StripeAdapter` pointed at
Stripe in production or at :mod:`forgekit.payments.fake` in tests and development.
"""

from forgekit.payments.errors import (
    AuthenticationFailed,
    CardDeclined,
    IdempotencyConflict,
    InvalidRequest,
    InvalidSignature,
    PaymentError,
    ProviderUnavailable,
)
from forgekit.payments.money import Money
from forgekit.payments.objects import (
    Customer,
    Invoice,
    InvoiceItem,
    InvoiceLine,
    PaymentIntent,
    PaymentMethod,
    Price,
    Refund,
    Subscription,
)
from forgekit.payments.port import PaymentProvider
from forgekit.payments.stripe import StripeAdapter
from forgekit.payments.webhooks import ProviderEvent, verify_event

__all__ = [
    "AuthenticationFailed",
    "CardDeclined",
    "Customer",
    "IdempotencyConflict",
    "InvalidRequest",
    "InvalidSignature",
    "Invoice",
    "InvoiceItem",
    "InvoiceLine",
    "Money",
    "PaymentError",
    "PaymentIntent",
    "PaymentMethod",
    "PaymentProvider",
    "Price",
    "ProviderEvent",
    "ProviderUnavailable",
    "Refund",
    "StripeAdapter",
    "Subscription",
    "verify_event",
]
