"""The provider's objects as frozen pydantic models carrying Stripe's field names.

Only the fields callers use are declared; unknown fields are ignored, so a newer provider
API version adding fields does not break parsing. Amounts are integer minor units.
"""

from __future__ import annotations

from typing import Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from forgekit.payments.money import Money


class ProviderObject(BaseModel):
    """Common base: immutable, extra fields ignored."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    id: str
    object: str
    created: int = 0
    metadata: dict[str, str] = Field(default_factory=dict)
    livemode: bool = False


class Customer(ProviderObject):
    """A payer; ``balance`` is negative when the customer holds a credit (minor units)."""

    object: Literal["customer"] = "customer"
    email: str | None = None
    name: str | None = None
    balance: int = 0
    invoice_settings: dict[str, Any] = Field(default_factory=dict)

    @property
    def default_payment_method(self) -> str | None:
        """The payment method invoices and subscriptions charge."""
        value = self.invoice_settings.get("default_payment_method")
        return value if isinstance(value, str) else None


class Card(BaseModel):
    """The displayable part of a card."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    brand: str
    last4: str
    exp_month: int = 12
    exp_year: int = 2034


class PaymentMethod(ProviderObject):
    """A stored means of payment attached to a customer."""

    object: Literal["payment_method"] = "payment_method"
    type: str = "card"
    customer: str | None = None
    card: Card | None = None


class PaymentError_(BaseModel):  # noqa: N801  (trailing _ keeps it apart from the exception)
    """Why the last charge attempt failed."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    type: str
    code: str | None = None
    decline_code: str | None = None
    message: str | None = None


PaymentIntentStatus = Literal[
    "requires_payment_method",
    "requires_confirmation",
    "requires_action",
    "processing",
    "requires_capture",
    "canceled",
    "succeeded",
]


class PaymentIntent(ProviderObject):
    """One attempt to collect an amount, possibly authorised now and captured later."""

    object: Literal["payment_intent"] = "payment_intent"
    amount: int
    amount_capturable: int = 0
    amount_received: int = 0
    currency: str
    status: PaymentIntentStatus
    capture_method: Literal["automatic", "automatic_async", "manual"] = "automatic"
    customer: str | None = None
    payment_method: str | None = None
    latest_charge: str | None = None
    canceled_at: int | None = None
    cancellation_reason: str | None = None
    last_payment_error: PaymentError_ | None = None

    @property
    def money(self) -> Money:
        """The intent's amount as :class:`Money`."""
        return Money(self.amount, self.currency)


class Refund(ProviderObject):
    """Money returned on a succeeded payment intent (all of it, or part)."""

    object: Literal["refund"] = "refund"
    amount: int
    currency: str
    payment_intent: str | None = None
    charge: str | None = None
    status: Literal["pending", "requires_action", "succeeded", "failed", "canceled"]
    reason: str | None = None


class Recurring(BaseModel):
    """How often a recurring price bills."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    interval: Literal["day", "week", "month", "year"]
    interval_count: int = 1


class Price(ProviderObject):
    """A product's price; recurring when ``recurring`` is set."""

    object: Literal["price"] = "price"
    active: bool = True
    currency: str
    unit_amount: int
    product: str
    recurring: Recurring | None = None


class SubscriptionItem(BaseModel):
    """One price on a subscription."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    id: str
    object: Literal["subscription_item"] = "subscription_item"
    price: Price
    quantity: int = 1


T = TypeVar("T")


class ListOf(BaseModel, Generic[T]):
    """Stripe's ``{"object": "list", "data": [...]}`` envelope."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    object: Literal["list"] = "list"
    data: list[T] = Field(default_factory=list)
    has_more: bool = False


SubscriptionStatus = Literal[
    "incomplete",
    "incomplete_expired",
    "trialing",
    "active",
    "past_due",
    "canceled",
    "unpaid",
    "paused",
]


class Subscription(ProviderObject):
    """A customer's recurring charge for one or more prices."""

    object: Literal["subscription"] = "subscription"
    customer: str
    status: SubscriptionStatus
    items: ListOf[SubscriptionItem]
    current_period_start: int
    current_period_end: int
    cancel_at_period_end: bool = False
    cancel_at: int | None = None
    canceled_at: int | None = None
    latest_invoice: str | None = None

    @property
    def price(self) -> Price:
        """The price of the (first) item: the plan, for single-price subscriptions."""
        return self.items.data[0].price


class InvoiceItem(ProviderObject):
    """An amount owed by a customer, pending until an invoice picks it up."""

    object: Literal["invoiceitem"] = "invoiceitem"
    amount: int
    currency: str
    customer: str
    description: str | None = None
    invoice: str | None = None
    proration: bool = False
    subscription: str | None = None


class InvoiceLine(BaseModel):
    """One line of an invoice."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    id: str
    object: Literal["line_item"] = "line_item"
    amount: int
    currency: str
    description: str | None = None
    proration: bool = False
    invoice_item: str | None = None
    subscription: str | None = None
    metadata: dict[str, str] = Field(default_factory=dict)


InvoiceStatus = Literal["draft", "open", "paid", "void", "uncollectible"]


class Invoice(ProviderObject):
    """A bill: ``draft`` → ``open`` (finalized) → ``paid`` | ``void`` | ``uncollectible``."""

    object: Literal["invoice"] = "invoice"
    customer: str
    status: InvoiceStatus
    currency: str
    number: str | None = None
    auto_advance: bool = False
    subtotal: int = 0
    total: int = 0
    amount_due: int = 0
    amount_paid: int = 0
    amount_remaining: int = 0
    subscription: str | None = None
    payment_intent: str | None = None
    lines: ListOf[InvoiceLine] = Field(default_factory=ListOf[InvoiceLine])


class Account(ProviderObject):
    """A connected account (Stripe Connect): a party the platform sends transfers to."""

    object: Literal["account"] = "account"
    type: str = "express"
    email: str | None = None
    country: str | None = None
    charges_enabled: bool = False
    payouts_enabled: bool = True


TransferStatus = Literal["paid", "failed"]


class Transfer(ProviderObject):
    """Money moved from the platform's balance to a connected account.

    Stripe's transfers carry no status (a refused one is a 4xx answer), so ``status``
    defaults to ``paid``; the fake also keeps each refused transfer as a ``failed`` object
    with its ``failure_code`` (and a ``transfer.failed`` event), so both outcomes can be read
    back. The port raises :class:`~forgekit.payments.errors.TransferFailed` for a refusal.
    """

    object: Literal["transfer"] = "transfer"
    amount: int
    currency: str
    destination: str
    status: TransferStatus = "paid"
    failure_code: str | None = None
    failure_message: str | None = None
    transfer_group: str | None = None
    reversed: bool = False
    amount_reversed: int = 0

    @property
    def money(self) -> Money:
        """The transfer's amount as :class:`Money`."""
        return Money(self.amount, self.currency)
