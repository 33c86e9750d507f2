"""Charging a payment method: the one place a card is authorised or declined."""

from __future__ import annotations

from forgekit.payments.fake.customers import card_of
from forgekit.payments.fake.state import FakeState, Obj


def decline_code(state: FakeState, method_id: str) -> str | None:
    """Why a charge on the method would be declined now, or ``None``."""
    if state.take_decline():
        return "generic_decline"
    return card_of(state, method_id).decline


def record_charge(state: FakeState, intent: Obj, captured: bool) -> Obj:
    """Store the succeeded charge of ``intent``."""
    amount = intent["amount"]
    charge = state.add(
        "ch",
        "charge",
        amount=amount,
        amount_captured=amount if captured else 0,
        amount_refunded=0,
        captured=captured,
        refunded=False,
        currency=intent["currency"],
        customer=intent["customer"],
        payment_intent=intent["id"],
        payment_method=intent["payment_method"],
        status="succeeded",
        paid=True,
    )
    state.emit("charge.succeeded", charge)
    return charge
