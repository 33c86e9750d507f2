"""Addresses and preferences in and out."""

from __future__ import annotations

import uuid
from typing import Annotated

import pycountry
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

#: The notification kinds a customer can turn on or off.
NOTIFY_KINDS = ("order_updates", "shipping", "back_in_stock", "review_replies")


def _iso_country(code: str) -> str:
    # pycountry holds the ISO 3166-1 list: "XX" matches the pattern but is no country.
    if pycountry.countries.get(alpha_2=code) is None:
        raise ValueError(f"{code!r} is not an ISO 3166-1 alpha-2 country code")
    return code


Country = Annotated[
    str,
    StringConstraints(strip_whitespace=True, to_upper=True, pattern=r"^[A-Za-z]{2}$"),
    AfterValidator(_iso_country),
]
Language = Annotated[str, StringConstraints(pattern=r"^[a-z]{2,3}(?:-[A-Za-z0-9]{2,8})?$")]
Line = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class AddressFields(_Strict):
    """The fields of a postal address."""

    label: str = Field(default="", max_length=50)
    name: Line
    line1: Line
    line2: str = Field(default="", max_length=200)
    city: str = Field(min_length=1, max_length=100)
    region: str = Field(default="", max_length=100)
    postcode: str = Field(min_length=1, max_length=20, pattern=r"^[A-Za-z0-9][A-Za-z0-9 -]*$")
    country: Country
    phone: str = Field(default="", max_length=32, pattern=r"^(?:\+?[0-9 ()-]{4,31})?$")


class AddressCreate(AddressFields):
    """``POST /api/v1/me/addresses``; ``default_*`` makes it the default of that kind."""

    default_shipping: bool = False
    default_billing: bool = False


class AddressRead(AddressFields):
    """A saved address and whether it is a default."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    default_shipping: bool = False
    default_billing: bool = False


class Notifications(_Strict):
    """Which e-mails the customer wants (each kind on or off)."""

    order_updates: bool = True
    shipping: bool = True
    back_in_stock: bool = False
    review_replies: bool = False


class PreferencesUpdate(_Strict):
    """``PATCH /api/v1/me/preferences``: the fields given are replaced."""

    language: Language | None = None
    #: A sales channel code (the channel fixes the currency).
    channel: str | None = Field(default=None, pattern=r"^[a-z0-9][a-z0-9-]{0,31}$")
    marketing_emails: bool | None = None
    notifications: Notifications | None = None


class PreferencesRead(BaseModel):
    """A customer's preferences; ``currency`` follows the channel."""

    language: str
    channel: str | None
    currency: str | None
    marketing_emails: bool
    notifications: Notifications
    default_shipping_address_id: uuid.UUID | None
    default_billing_address_id: uuid.UUID | None
