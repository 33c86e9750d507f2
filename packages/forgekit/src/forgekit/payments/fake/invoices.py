"""Invoice items and invoices: ``draft`` → ``open`` → ``paid`` | ``void`` | ``uncollectible``."""

from __future__ import annotations

from typing import Any

from forgekit.payments.fake import params as p
from forgekit.payments.fake.errors import FakeError, invalid
from forgekit.payments.fake.payments import confirm_intent
from forgekit.payments.fake.state import FakeState, Obj, new_id


def create_invoice_item(state: FakeState, params: dict[str, Any]) -> Obj:
    """POST /v1/invoiceitems: a pending amount (negative: a credit)."""
    customer = state.get("customer", p.required(params, "customer"))
    amount = p.integer(params, "amount", minimum=-(10**12))
    if amount is None:
        raise invalid("Missing required param: amount.", "parameter_missing", "amount")
    return add_invoice_item(
        state,
        customer["id"],
        amount,
        p.currency(params),
        p.text(params, "description"),
        metadata=p.metadata(params),
    )


def add_invoice_item(
    state: FakeState,
    customer_id: str,
    amount: int,
    currency: str,
    description: str | None,
    *,
    proration: bool = False,
    subscription: str | None = None,
    metadata: dict[str, str] | None = None,
) -> Obj:
    """Store a pending invoice item."""
    item = state.add(
        "ii",
        "invoiceitem",
        customer=customer_id,
        amount=amount,
        currency=currency,
        description=description,
        invoice=None,
        proration=proration,
        subscription=subscription,
        metadata=metadata or {},
    )
    state.emit("invoiceitem.created", item)
    return item


def pending_items(state: FakeState, customer_id: str) -> list[Obj]:
    """The customer's invoice items no invoice holds yet."""
    return [
        i for i in state.all("invoiceitem") if i["customer"] == customer_id and i["invoice"] is None
    ]


def create_invoice(state: FakeState, params: dict[str, Any]) -> Obj:
    """POST /v1/invoices: a draft holding the pending items when asked to include them."""
    customer = state.get("customer", p.required(params, "customer"))
    behavior = p.choice(params, "pending_invoice_items_behavior", ("include", "exclude"), "exclude")
    items = pending_items(state, customer["id"]) if behavior == "include" else []
    if behavior == "include" and not items:
        raise invalid("Nothing to invoice for customer", "invoice_no_customer_line_items")
    invoice = build_invoice(state, customer["id"], items, subscription=None)
    invoice["auto_advance"] = p.flag(params, "auto_advance", False)
    invoice["metadata"] = p.metadata(params)
    return invoice


def build_invoice(
    state: FakeState, customer_id: str, items: list[Obj], subscription: str | None
) -> Obj:
    """A draft invoice over ``items`` (all in one currency)."""
    currencies = {i["currency"] for i in items} or {"usd"}
    if len(currencies) > 1:
        raise invalid("Invoice items in more than one currency cannot share an invoice.")
    invoice = state.add(
        "in",
        "invoice",
        customer=customer_id,
        status="draft",
        currency=currencies.pop(),
        number=None,
        auto_advance=False,
        subscription=subscription,
        payment_intent=None,
        amount_paid=0,
        lines={"object": "list", "data": [], "has_more": False},
    )
    for item in items:
        item["invoice"] = invoice["id"]
        invoice["lines"]["data"].append(
            {
                "id": new_id("il"),
                "object": "line_item",
                "amount": item["amount"],
                "currency": item["currency"],
                "description": item["description"],
                "proration": item["proration"],
                "invoice_item": item["id"],
                "subscription": item["subscription"],
                "metadata": dict(item["metadata"]),
            }
        )
    total = sum(line["amount"] for line in invoice["lines"]["data"])
    invoice.update(
        subtotal=total, total=total, amount_due=max(total, 0), amount_remaining=max(total, 0)
    )
    state.emit("invoice.created", invoice)
    return invoice


def _require(invoice: Obj, *statuses: str) -> None:
    if invoice["status"] not in statuses:
        raise invalid(
            f"You can only do this to an invoice whose status is {' or '.join(statuses)}; "
            f"this one is {invoice['status']}.",
            "invoice_unexpected_status",
        )


def finalize(state: FakeState, invoice: Obj) -> None:
    """``draft`` → ``open``: numbered, the customer's credit balance applied; an invoice
    with nothing due is paid at once, a negative one becomes customer credit."""
    _require(invoice, "draft")
    customer = state.get("customer", invoice["customer"])
    total = invoice["total"]
    credit = max(-customer["balance"], 0)
    applied = min(credit, max(total, 0))
    customer["balance"] += applied + min(total, 0)
    due = max(total, 0) - applied
    invoice.update(
        status="open", number=state.next_invoice_number(), amount_due=due, amount_remaining=due
    )
    state.emit("invoice.finalized", invoice)
    if due == 0:
        _mark_paid(state, invoice)


def finalize_invoice(state: FakeState, params: dict[str, Any], id: str) -> Obj:
    """POST /v1/invoices/{id}/finalize."""
    invoice = state.get("invoice", id)
    finalize(state, invoice)
    return invoice


def charge_invoice(state: FakeState, invoice: Obj) -> None:
    """Collect an open invoice from the customer's default payment method; a decline leaves it
    open, emits ``invoice.payment_failed`` and answers 402."""
    _require(invoice, "open", "uncollectible")
    if invoice["amount_remaining"] == 0:
        _mark_paid(state, invoice)
        return
    customer = state.get("customer", invoice["customer"])
    method = customer["invoice_settings"]["default_payment_method"]
    if method is None:
        state.emit("invoice.payment_failed", invoice)
        raise invalid("This customer has no default payment method.", "invoice_no_payment_method")
    intent = state.add(
        "pi",
        "payment_intent",
        amount=invoice["amount_remaining"],
        amount_capturable=0,
        amount_received=0,
        currency=invoice["currency"],
        customer=customer["id"],
        capture_method="automatic",
        payment_method=method,
        latest_charge=None,
        status="requires_confirmation",
        canceled_at=None,
        cancellation_reason=None,
        last_payment_error=None,
        metadata={"invoice": invoice["id"]},
        _refunded=0,
    )
    invoice["payment_intent"] = intent["id"]
    try:
        confirm_intent(state, intent)
    except FakeError:
        invoice["attempt_count"] = invoice.get("attempt_count", 0) + 1
        state.emit("invoice.payment_failed", invoice)
        raise
    _mark_paid(state, invoice)


def _mark_paid(state: FakeState, invoice: Obj) -> None:
    invoice.update(status="paid", amount_paid=invoice["amount_due"], amount_remaining=0, paid=True)
    state.emit("invoice.paid", invoice)
    state.emit("invoice.payment_succeeded", invoice)


def pay_invoice(state: FakeState, params: dict[str, Any], id: str) -> Obj:
    """POST /v1/invoices/{id}/pay."""
    invoice = state.get("invoice", id)
    charge_invoice(state, invoice)
    return invoice


def void_invoice(state: FakeState, params: dict[str, Any], id: str) -> Obj:
    """POST /v1/invoices/{id}/void (``open`` or ``uncollectible`` only)."""
    invoice = state.get("invoice", id)
    _require(invoice, "open", "uncollectible")
    invoice["status"] = "void"
    state.emit("invoice.voided", invoice)
    return invoice


def mark_uncollectible(state: FakeState, params: dict[str, Any], id: str) -> Obj:
    """POST /v1/invoices/{id}/mark_uncollectible (``open`` only)."""
    invoice = state.get("invoice", id)
    _require(invoice, "open")
    invoice["status"] = "uncollectible"
    state.emit("invoice.marked_uncollectible", invoice)
    return invoice
