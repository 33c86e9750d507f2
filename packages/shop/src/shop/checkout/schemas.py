"""Checkout, discount codes and orders in and out."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, EmailStr, Field, StringConstraints, model_validator

from shop.accounts.schemas import Country
from shop.catalogue.schemas import ChannelCode, Currency

DiscountCode = Annotated[
    str, StringConstraints(strip_whitespace=True, to_upper=True, pattern=r"^[A-Za-z0-9_-]{3,64}$")
]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Address(_Strict):
    """A postal address."""

    name: str = Field(min_length=1, max_length=200)
    line1: str = Field(min_length=1, max_length=200)
    line2: str = Field(default="", max_length=200)
    city: str = Field(min_length=1, max_length=100)
    postcode: str = Field(min_length=1, max_length=20)
    country: Country


class CheckoutRequest(_Strict):
    """``POST /api/v1/checkout``: the cart becomes an order holding its stock."""

    channel: ChannelCode | None = None
    #: Needed for an anonymous cart; a signed-in customer's account e-mail is the default.
    email: EmailStr | None = None
    #: A new address, or (signed in) ``shipping_address_id`` of a saved one; with neither,
    #: the customer's default shipping address.
    shipping_address: Address | None = None
    shipping_address_id: uuid.UUID | None = None
    discount_code: DiscountCode | None = None
    #: The total the customer was shown; when given and the prices changed since, 409.
    expected_total: int | None = Field(default=None, ge=0)

    @model_validator(mode="after")
    def _one_address(self) -> CheckoutRequest:
        if self.shipping_address is not None and self.shipping_address_id is not None:
            raise ValueError("send shipping_address or shipping_address_id, not both")
        return self


class DiscountKind(StrEnum):
    """What a discount code takes off."""

    PERCENTAGE = "percentage"
    FIXED = "fixed"
    FREE_SHIPPING = "free_shipping"


class DiscountCreate(_Strict):
    """``POST /api/v1/discounts`` (staff)."""

    code: DiscountCode
    kind: DiscountKind
    #: Basis points for a percentage (1500 = 15 %), minor units for a fixed amount.
    # Strict: lax validation took ``true`` as 1 (found by schemathesis).
    value: int = Field(default=0, ge=0, le=10**12, strict=True)
    currency: Currency | None = None
    max_uses: int | None = Field(default=None, ge=1, strict=True)
    expires_at: datetime | None = None

    @model_validator(mode="after")
    def _consistent(self) -> DiscountCreate:
        if self.kind is DiscountKind.FIXED and (self.currency is None or self.value == 0):
            raise ValueError("a fixed discount needs a value and a currency")
        if self.kind is DiscountKind.PERCENTAGE and not 0 < self.value <= 10_000:
            raise ValueError("a percentage is 1 to 10000 basis points")
        return self


class DiscountRead(BaseModel):
    """A discount code."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    code: str
    kind: str
    value: int
    currency: str | None
    max_uses: int | None
    used: int
    expires_at: datetime | None


class OrderLineRead(BaseModel):
    """A line of an order."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    variant_id: uuid.UUID
    sku: str
    name: str
    quantity: int
    unit_price: int
    fulfilled: int
    returned: int


class OrderRead(BaseModel):
    """An order with its lines; amounts in minor units of ``currency``."""

    id: uuid.UUID
    status: str
    email: str
    currency: str
    subtotal: int
    discount: int
    shipping: int
    tax: int
    total: int
    discount_code: str | None
    shipping_address: dict[str, Any]
    expires_at: datetime | None
    created_at: datetime
    lines: list[OrderLineRead]
    #: Only in the answer to an anonymous checkout: the credential of the guest order
    #: routes (``X-Order-Token`` on ``/api/v1/guest/orders/{id}``). Keep it secret.
    order_token: str | None = None


class HistoryEntry(BaseModel):
    """One transition of an order."""

    model_config = ConfigDict(from_attributes=True)

    action: str
    from_status: str
    to_status: str
    actor_id: uuid.UUID | None
    at: datetime
    note: str | None


class OrderNote(_Strict):
    """An optional note for a staff action."""

    note: str | None = Field(default=None, max_length=500)


class LineQuantity(_Strict):
    """Units of one order line."""

    line_id: uuid.UUID
    quantity: int = Field(ge=1, le=100_000)


class FulfilmentCreate(_Strict):
    """``POST /api/v1/orders/{id}/fulfilments``: a shipment."""

    carrier: str = Field(min_length=1, max_length=64)
    tracking_number: str = Field(pattern=r"^[A-Za-z0-9-]{3,128}$")
    lines: list[LineQuantity] = Field(min_length=1, max_length=100)


class FulfilmentRead(BaseModel):
    """A shipment of an order."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    carrier: str
    tracking_number: str
    created_at: datetime


class ReturnCreate(_Strict):
    """``POST /api/v1/orders/{id}/returns``: units sent back; ``refund`` pays their value back."""

    lines: list[LineQuantity] = Field(min_length=1, max_length=100)
    refund: bool = False
    #: Put the units back on hand in the warehouses they shipped from (false: damaged goods
    #: that must not be sold again).
    restock: bool = True
    note: str | None = Field(default=None, max_length=500)


class ReturnRead(BaseModel):
    """The order after a return, the returned units' value and what was refunded."""

    order: OrderRead
    value: int
    refunded: int
