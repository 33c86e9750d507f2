"""Customers and payment methods (Stripe's test tokens such as ``pm_card_visa``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from forgekit.payments.fake import params as p
from forgekit.payments.fake.errors import declined, invalid
from forgekit.payments.fake.state import FakeState, Obj


@dataclass(frozen=True)
class TestCard:
    """A test token's card and how it behaves."""

    brand: str
    last4: str
    #: The decline code of every charge (``None``: charges succeed).
    decline: str | None = None
    #: Declines already when attached (Stripe checks the card then).
    declines_on_attach: bool = False


TEST_CARDS = {
    "pm_card_visa": TestCard("visa", "4242"),
    "pm_card_mastercard": TestCard("mastercard", "4444"),
    "pm_card_amex": TestCard("amex", "8431"),
    "pm_card_chargeDeclined": TestCard("visa", "0002", "generic_decline", True),
    "pm_card_chargeDeclinedInsufficientFunds": TestCard("visa", "9995", "insufficient_funds", True),
    "pm_card_chargeDeclinedExpiredCard": TestCard("visa", "0069", "expired_card", True),
    "pm_card_chargeCustomerFail": TestCard("visa", "0341", "generic_decline"),
}


def create_customer(state: FakeState, params: dict[str, Any]) -> Obj:
    """POST /v1/customers."""
    customer = state.add(
        "cus",
        "customer",
        email=p.text(params, "email"),
        name=p.text(params, "name"),
        metadata=p.metadata(params),
        balance=0,
        invoice_settings={"default_payment_method": None},
    )
    state.emit("customer.created", customer)
    return customer


def update_customer(state: FakeState, params: dict[str, Any], id: str) -> Obj:
    """POST /v1/customers/{id} (email, name, metadata, default payment method)."""
    customer = state.get("customer", id)
    for name in ("email", "name"):
        if name in params:
            customer[name] = p.text(params, name)
    if "metadata" in params:
        customer["metadata"].update(p.metadata(params))
    settings = params.get("invoice_settings")
    if isinstance(settings, dict) and "default_payment_method" in settings:
        method = payment_method_of(state, str(settings["default_payment_method"]))
        if method["customer"] != customer["id"]:
            raise invalid("The payment method is not attached to this customer.")
        customer["invoice_settings"]["default_payment_method"] = method["id"]
    state.emit("customer.updated", customer)
    return customer


def card_of(state: FakeState, method_id: str) -> TestCard:
    """The test card behind a stored payment method."""
    method = payment_method_of(state, method_id)
    return TEST_CARDS[method["_token"]]


def payment_method_of(state: FakeState, ref: str) -> Obj:
    """A stored payment method, or a fresh one made from a test token."""
    card = TEST_CARDS.get(ref)
    if card is None:
        return state.get("payment_method", ref)
    return state.add(
        "pm",
        "payment_method",
        type="card",
        customer=None,
        _token=ref,
        card={"brand": card.brand, "last4": card.last4, "exp_month": 12, "exp_year": 2034},
    )


def attach_payment_method(state: FakeState, params: dict[str, Any], id: str) -> Obj:
    """POST /v1/payment_methods/{id}/attach."""
    customer = state.get("customer", p.required(params, "customer"))
    method = payment_method_of(state, id)
    if method["customer"] not in (None, customer["id"]):
        raise invalid("The payment method is attached to another customer.")
    if card_of(state, method["id"]).declines_on_attach:
        card = card_of(state, method["id"])
        raise declined("card_declined", card.decline or "generic_decline")
    method["customer"] = customer["id"]
    state.emit("payment_method.attached", method)
    return method
