"""The payment port: what a product needs from a payment provider, independent of which.

Every method is a coroutine. Every mutating call takes a keyword ``idempotency_key``: the
provider performs a request once per key, and answers a repeat with the first answer, so a
caller retrying after :class:`~forgekit.payments.errors.ProviderUnavailable` (outcome unknown)
must reuse the key. Derive keys from the caller's own ids (``f"order-{id}-capture"``), never
from a random value made at retry time. Amounts are integer minor units.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal, Protocol, runtime_checkable

from forgekit.payments.objects import (
    Account,
    Customer,
    Invoice,
    InvoiceItem,
    PaymentIntent,
    PaymentMethod,
    Price,
    Refund,
    Subscription,
    Transfer,
)

CaptureMethod = Literal["automatic", "manual"]
Interval = Literal["day", "week", "month", "year"]
ProrationBehavior = Literal["create_prorations", "none", "always_invoice"]
Metadata = Mapping[str, str]


@runtime_checkable
class PaymentProvider(Protocol):
    """A payment provider (Stripe, or the fake speaking its API in tests)."""

    async def create_customer(
        self,
        email: str,
        name: str | None = None,
        metadata: Metadata | None = None,
        *,
        idempotency_key: str,
    ) -> Customer:
        """A new customer."""
        ...

    async def attach_payment_method(
        self, customer_id: str, payment_method: str, *, idempotency_key: str
    ) -> PaymentMethod:
        """Attach ``payment_method`` (a token such as ``pm_card_visa``) to the customer; it
        becomes the customer's default for invoices and subscriptions."""
        ...

    async def create_payment_intent(
        self,
        amount: int,
        currency: str,
        customer_id: str | None = None,
        payment_method: str | None = None,
        capture_method: CaptureMethod = "automatic",
        confirm: bool = True,
        metadata: Metadata | None = None,
        *,
        idempotency_key: str,
    ) -> PaymentIntent:
        """Create (and by default confirm) a payment intent; raises ``CardDeclined``."""
        ...

    async def capture_payment_intent(
        self, id: str, amount_to_capture: int | None = None, *, idempotency_key: str
    ) -> PaymentIntent:
        """Capture an authorised (``requires_capture``) intent, all of it or less."""
        ...

    async def cancel_payment_intent(self, id: str, *, idempotency_key: str) -> PaymentIntent:
        """Cancel an intent that has not succeeded (releases an authorisation)."""
        ...

    async def create_refund(
        self, payment_intent_id: str, amount: int | None = None, *, idempotency_key: str
    ) -> Refund:
        """Refund what remains of a succeeded intent, or ``amount`` of it."""
        ...

    async def create_price(
        self,
        product_name: str,
        unit_amount: int,
        currency: str,
        interval: Interval | None = "month",
        *,
        idempotency_key: str,
    ) -> Price:
        """A price of a new product; recurring every ``interval`` (``None``: one-off)."""
        ...

    async def create_subscription(
        self, customer_id: str, price_id: str, *, idempotency_key: str
    ) -> Subscription:
        """Subscribe the customer (charging its default payment method)."""
        ...

    async def update_subscription(
        self,
        id: str,
        price_id: str,
        proration_behavior: ProrationBehavior = "create_prorations",
        *,
        idempotency_key: str,
    ) -> Subscription:
        """Move the subscription to another price (upgrade or downgrade)."""
        ...

    async def cancel_subscription(
        self, id: str, at_period_end: bool = True, *, idempotency_key: str
    ) -> Subscription:
        """Cancel now, or at the end of the paid period (the default)."""
        ...

    async def create_invoice_item(
        self,
        customer_id: str,
        amount: int,
        currency: str,
        description: str | None = None,
        metadata: Metadata | None = None,
        *,
        idempotency_key: str,
    ) -> InvoiceItem:
        """A pending amount the customer's next invoice will include."""
        ...

    async def create_invoice(
        self, customer_id: str, auto_advance: bool = False, *, idempotency_key: str
    ) -> Invoice:
        """A draft invoice holding the customer's pending invoice items."""
        ...

    async def finalize_invoice(self, id: str, *, idempotency_key: str) -> Invoice:
        """``draft`` → ``open`` (numbered, no longer editable)."""
        ...

    async def pay_invoice(self, id: str, *, idempotency_key: str) -> Invoice:
        """Charge an ``open`` invoice → ``paid``; raises ``CardDeclined``."""
        ...

    async def void_invoice(self, id: str, *, idempotency_key: str) -> Invoice:
        """``open`` | ``uncollectible`` → ``void``."""
        ...

    async def mark_uncollectible(self, id: str, *, idempotency_key: str) -> Invoice:
        """``open`` → ``uncollectible``."""
        ...

    async def create_account(
        self,
        email: str | None = None,
        country: str = "US",
        metadata: Metadata | None = None,
        *,
        idempotency_key: str,
    ) -> Account:
        """A connected account (Stripe Connect, ``express``) that transfers can pay."""
        ...

    async def create_transfer(
        self,
        amount: int,
        currency: str,
        destination: str,
        transfer_group: str | None = None,
        metadata: Metadata | None = None,
        *,
        idempotency_key: str,
    ) -> Transfer:
        """Move ``amount`` of the platform's balance to the ``destination`` connected
        account; raises ``TransferFailed`` when the provider refuses it (no money moved)."""
        ...

    async def retrieve_customer(self, id: str) -> Customer:
        """The customer."""
        ...

    async def retrieve_payment_method(self, id: str) -> PaymentMethod:
        """The payment method."""
        ...

    async def retrieve_payment_intent(self, id: str) -> PaymentIntent:
        """The payment intent."""
        ...

    async def retrieve_refund(self, id: str) -> Refund:
        """The refund."""
        ...

    async def retrieve_price(self, id: str) -> Price:
        """The price."""
        ...

    async def retrieve_subscription(self, id: str) -> Subscription:
        """The subscription."""
        ...

    async def retrieve_invoice_item(self, id: str) -> InvoiceItem:
        """The invoice item."""
        ...

    async def retrieve_invoice(self, id: str) -> Invoice:
        """The invoice."""
        ...

    async def retrieve_account(self, id: str) -> Account:
        """The connected account."""
        ...

    async def retrieve_transfer(self, id: str) -> Transfer:
        """The transfer."""
        ...
