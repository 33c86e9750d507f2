"""Payment intents (authorise, capture, cancel) and refunds."""

from __future__ import annotations

from typing import Any

from forgekit.payments.fake import params as p
from forgekit.payments.fake.charges import decline_code, record_charge
from forgekit.payments.fake.customers import payment_method_of
from forgekit.payments.fake.errors import declined, invalid
from forgekit.payments.fake.state import FakeState, Obj, public

_CANCELABLE = (
    "requires_payment_method",
    "requires_confirmation",
    "requires_action",
    "requires_capture",
)


def create_payment_intent(state: FakeState, params: dict[str, Any]) -> Obj:
    """POST /v1/payment_intents (confirmed at once when ``confirm=true``)."""
    amount = p.integer(params, "amount", minimum=1)
    if amount is None:
        raise invalid("Missing required param: amount.", "parameter_missing", "amount")
    currency = p.currency(params)
    customer_id = p.text(params, "customer")
    if customer_id:
        state.get("customer", customer_id)
    capture = p.choice(params, "capture_method", ("automatic", "manual"), "automatic")
    confirm = p.flag(params, "confirm", False)
    method_ref = p.text(params, "payment_method")
    method = _usable_method(state, method_ref, customer_id) if method_ref else None
    if confirm and method is None:
        raise invalid("You must provide a payment_method to confirm.", "parameter_missing")
    intent = state.add(
        "pi",
        "payment_intent",
        amount=amount,
        amount_capturable=0,
        amount_received=0,
        currency=currency,
        customer=customer_id,
        capture_method=capture,
        payment_method=method["id"] if method else None,
        latest_charge=None,
        status="requires_confirmation" if method else "requires_payment_method",
        canceled_at=None,
        cancellation_reason=None,
        last_payment_error=None,
        metadata=p.metadata(params),
        _refunded=0,
    )
    state.emit("payment_intent.created", intent)
    if confirm:
        confirm_intent(state, intent)
    return intent


def _usable_method(state: FakeState, ref: str, customer_id: str | None) -> Obj:
    method = payment_method_of(state, ref)
    if method["customer"] not in (None, customer_id):
        raise invalid("The payment method belongs to another customer.", None, "payment_method")
    return method


def confirm_intent(state: FakeState, intent: Obj) -> None:
    """Authorise the intent's payment method: captured now or held for a manual capture.
    A decline leaves the intent in ``requires_payment_method`` and answers 402."""
    code = decline_code(state, intent["payment_method"])
    if code is not None:
        intent["status"] = "requires_payment_method"
        intent["last_payment_error"] = {
            "type": "card_error",
            "code": "card_declined",
            "decline_code": code,
            "message": "Your card was declined.",
        }
        state.emit("payment_intent.payment_failed", intent)
        raise declined("card_declined", code, payment_intent=public(intent))
    automatic = intent["capture_method"] == "automatic"
    charge = record_charge(state, intent, captured=automatic)
    intent["latest_charge"] = charge["id"]
    if automatic:
        intent.update(status="succeeded", amount_received=intent["amount"])
        state.emit("payment_intent.succeeded", intent)
    else:
        intent.update(status="requires_capture", amount_capturable=intent["amount"])
        state.emit("payment_intent.amount_capturable_updated", intent)


def confirm_payment_intent(state: FakeState, params: dict[str, Any], id: str) -> Obj:
    """POST /v1/payment_intents/{id}/confirm (optionally with a new payment method)."""
    intent = state.get("payment_intent", id)
    if intent["status"] not in ("requires_payment_method", "requires_confirmation"):
        raise _unexpected_state(intent)
    method_ref = p.text(params, "payment_method")
    if method_ref:
        intent["payment_method"] = _usable_method(state, method_ref, intent["customer"])["id"]
    if intent["payment_method"] is None:
        raise invalid("You must provide a payment_method to confirm.", "parameter_missing")
    confirm_intent(state, intent)
    return intent


def capture_payment_intent(state: FakeState, params: dict[str, Any], id: str) -> Obj:
    """POST /v1/payment_intents/{id}/capture (all that is capturable, or less)."""
    intent = state.get("payment_intent", id)
    if intent["status"] != "requires_capture":
        raise _unexpected_state(intent)
    amount = p.integer(params, "amount_to_capture", minimum=1) or intent["amount_capturable"]
    if amount > intent["amount_capturable"]:
        raise invalid(
            "The amount to capture exceeds the amount capturable.",
            "amount_too_large",
            "amount_to_capture",
        )
    intent.update(status="succeeded", amount_received=amount, amount_capturable=0)
    charge = state.get("charge", intent["latest_charge"])
    charge.update(captured=True, amount_captured=amount)
    state.emit("charge.captured", charge)
    state.emit("payment_intent.succeeded", intent)
    return intent


def cancel_payment_intent(state: FakeState, params: dict[str, Any], id: str) -> Obj:
    """POST /v1/payment_intents/{id}/cancel (releases an authorisation)."""
    intent = state.get("payment_intent", id)
    if intent["status"] not in _CANCELABLE:
        raise _unexpected_state(intent)
    intent.update(
        status="canceled",
        amount_capturable=0,
        canceled_at=state.now(),
        cancellation_reason=p.text(params, "cancellation_reason") or "requested_by_customer",
    )
    state.emit("payment_intent.canceled", intent)
    return intent


def _unexpected_state(intent: Obj) -> Exception:
    return invalid(
        f"This PaymentIntent's status is {intent['status']}; the action is not allowed.",
        "payment_intent_unexpected_state",
    )


def create_refund(state: FakeState, params: dict[str, Any]) -> Obj:
    """POST /v1/refunds: all that remains of a succeeded intent, or ``amount`` of it."""
    intent = state.get("payment_intent", p.required(params, "payment_intent"))
    if intent["status"] != "succeeded":
        raise invalid("This PaymentIntent has no captured charge to refund.", "charge_not_captured")
    remaining = intent["amount_received"] - intent["_refunded"]
    if remaining <= 0:
        raise invalid("The charge has already been refunded.", "charge_already_refunded")
    amount = p.integer(params, "amount", minimum=1) or remaining
    if amount > remaining:
        raise invalid(
            f"Refund amount ({amount}) is greater than unrefunded amount on charge ({remaining})",
            "amount_too_large",
            "amount",
        )
    intent["_refunded"] += amount
    charge = state.get("charge", intent["latest_charge"])
    refunded = intent["_refunded"]
    charge.update(amount_refunded=refunded, refunded=refunded == charge["amount_captured"])
    refund = state.add(
        "re",
        "refund",
        amount=amount,
        currency=intent["currency"],
        payment_intent=intent["id"],
        charge=charge["id"],
        status="succeeded",
        reason=p.text(params, "reason"),
        metadata=p.metadata(params),
    )
    state.emit("refund.created", refund)
    state.emit("charge.refunded", charge)
    return refund
