"""The kit's payment port: one interface over a payment provider (Stripe), a Stripe-compatible
fake for tests and local runs, and webhook verification. Connected accounts and transfers
(Stripe Connect) pay money out to third parties.

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
    TransferFailed,
)
from forgekit.payments.money import Money
from forgekit.payments.objects import (
    Account,
    Customer,
    Invoice,
    InvoiceItem,
    InvoiceLine,
    PaymentIntent,
    PaymentMethod,
    Price,
    Refund,
    Subscription,
    Transfer,
)
from forgekit.payments.port import PaymentProvider
from forgekit.payments.stripe import StripeAdapter
from forgekit.payments.webhooks import ProviderEvent, verify_event

__all__ = [
    "Account",
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
    "Transfer",
    "TransferFailed",
    "verify_event",
]
