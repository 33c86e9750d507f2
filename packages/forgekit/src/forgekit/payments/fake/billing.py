"""Prices and subscriptions: first invoice, upgrades and downgrades with proration items,
cancellation at the period's end, and renewals when a test advances the clock."""

from __future__ import annotations

import datetime as dt
from typing import Any

from forgekit.payments.fake import params as p
from forgekit.payments.fake.errors import FakeError, invalid
from forgekit.payments.fake.invoices import (
    add_invoice_item,
    build_invoice,
    charge_invoice,
    finalize,
    pending_items,
)
from forgekit.payments.fake.state import INTERVAL_SECONDS, FakeState, Obj, new_id, public


def create_price(state: FakeState, params: dict[str, Any]) -> Obj:
    """POST /v1/prices (with ``product_data[name]`` making the product)."""
    product_data = params.get("product_data")
    name = product_data.get("name") if isinstance(product_data, dict) else None
    if not name:
        raise invalid("Missing required param: product_data[name].", "parameter_missing")
    unit_amount = p.integer(params, "unit_amount", minimum=0)
    if unit_amount is None:
        raise invalid("Missing required param: unit_amount.", "parameter_missing")
    recurring = params.get("recurring")
    interval = recurring.get("interval") if isinstance(recurring, dict) else None
    if recurring is not None and interval not in INTERVAL_SECONDS:
        raise invalid("Invalid recurring[interval]", None, "recurring[interval]")
    product = state.add("prod", "product", name=name, active=True)
    price = state.add(
        "price",
        "price",
        active=True,
        currency=p.currency(params),
        unit_amount=unit_amount,
        product=product["id"],
        recurring={"interval": interval, "interval_count": 1} if interval else None,
        metadata=p.metadata(params),
    )
    state.emit("price.created", price)
    return price


def _recurring_price(state: FakeState, price_id: str) -> Obj:
    price = state.get("price", price_id)
    if price["recurring"] is None:
        raise invalid("A subscription needs a recurring price.", None, "items[0][price]")
    return price


def _first_item_price(params: dict[str, Any]) -> tuple[str | None, str]:
    items = params.get("items")
    first = items.get("0") if isinstance(items, dict) else None
    if not isinstance(first, dict) or not first.get("price"):
        raise invalid("Missing required param: items[0][price].", "parameter_missing")
    return first.get("id"), str(first["price"])


def create_subscription(state: FakeState, params: dict[str, Any]) -> Obj:
    """POST /v1/subscriptions: bills the first period at once; ``incomplete`` when that fails."""
    customer = state.get("customer", p.required(params, "customer"))
    price = _recurring_price(state, _first_item_price(params)[1])
    start = state.now()
    subscription = state.add(
        "sub",
        "subscription",
        customer=customer["id"],
        status="incomplete",
        items={
            "object": "list",
            "has_more": False,
            "data": [
                {
                    "id": new_id("si"),
                    "object": "subscription_item",
                    "price": public(price),
                    "quantity": 1,
                },
            ],
        },
        current_period_start=start,
        current_period_end=start + INTERVAL_SECONDS[price["recurring"]["interval"]],
        cancel_at_period_end=False,
        cancel_at=None,
        canceled_at=None,
        latest_invoice=None,
        metadata=p.metadata(params),
    )
    state.emit("customer.subscription.created", subscription)
    _bill_period(state, subscription)
    return subscription


def _bill_period(state: FakeState, subscription: Obj) -> None:
    """Invoice the period starting now (plus the customer's pending items) and collect it."""
    price = subscription["items"]["data"][0]["price"]
    item = add_invoice_item(
        state,
        subscription["customer"],
        price["unit_amount"],
        price["currency"],
        f"1 x {_product_name(state, price)} ({_day(subscription['current_period_start'])} to "
        f"{_day(subscription['current_period_end'])})",
        subscription=subscription["id"],
    )
    items = [item, *(i for i in pending_items(state, subscription["customer"]) if i is not item)]
    invoice = build_invoice(state, subscription["customer"], items, subscription["id"])
    subscription["latest_invoice"] = invoice["id"]
    finalize(state, invoice)
    if invoice["status"] == "open":
        try:
            charge_invoice(state, invoice)
        except FakeError:
            _set_status(state, subscription, _unpaid_status(subscription))
            return
    _set_status(state, subscription, "active")


def _unpaid_status(subscription: Obj) -> str:
    return "incomplete" if subscription["status"] == "incomplete" else "past_due"


def _set_status(state: FakeState, subscription: Obj, status: str) -> None:
    if subscription["status"] != status:
        subscription["status"] = status
        state.emit("customer.subscription.updated", subscription)


def _product_name(state: FakeState, price: Obj) -> str:
    return str(state.get("product", price["product"])["name"])


def _day(timestamp: int) -> str:
    return dt.datetime.fromtimestamp(timestamp, dt.UTC).date().isoformat()


def update_subscription(state: FakeState, params: dict[str, Any], id: str) -> Obj:
    """POST /v1/subscriptions/{id}: a new price (with prorations) and/or cancel at period end."""
    subscription = state.get("subscription", id)
    if subscription["status"] == "canceled":
        raise invalid("A canceled subscription can only update its metadata.")
    if "items" in params:
        behavior = p.choice(
            params,
            "proration_behavior",
            ("create_prorations", "none", "always_invoice"),
            "create_prorations",
        )
        _change_price(state, subscription, params, behavior)
    if "cancel_at_period_end" in params:
        at_end = p.flag(params, "cancel_at_period_end", False)
        subscription.update(
            cancel_at_period_end=at_end,
            cancel_at=subscription["current_period_end"] if at_end else None,
        )
    subscription["metadata"].update(p.metadata(params))
    state.emit("customer.subscription.updated", subscription)
    return subscription


def _change_price(
    state: FakeState, subscription: Obj, params: dict[str, Any], behavior: str
) -> None:
    item_id, price_id = _first_item_price(params)
    item = subscription["items"]["data"][0]
    if item_id not in (None, item["id"]):
        raise invalid(f"No such subscription item: '{item_id}'", "resource_missing")
    old, new = item["price"], _recurring_price(state, price_id)
    if new["currency"] != old["currency"] or new["recurring"] != old["recurring"]:
        raise invalid("The new price must have the same currency and interval.")
    item["price"] = public(new)
    if behavior == "none" or new["id"] == old["id"]:
        return
    _prorate(state, subscription, old, new)
    if behavior == "always_invoice":
        items = [
            i
            for i in pending_items(state, subscription["customer"])
            if i["subscription"] == subscription["id"]
        ]
        invoice = build_invoice(state, subscription["customer"], items, subscription["id"])
        finalize(state, invoice)
        if invoice["status"] == "open":
            charge_invoice(state, invoice)


def _prorate(state: FakeState, subscription: Obj, old: Obj, new: Obj) -> None:
    """A credit for the unused time on ``old`` and a charge for the rest of the period on
    ``new``, each rounded to the minor unit, pending for the next invoice."""
    start, end = subscription["current_period_start"], subscription["current_period_end"]
    now = min(max(state.now(), start), end)
    remaining, length = end - now, end - start
    since = _day(now)
    for price, sign, text in ((old, -1, "Unused time on"), (new, 1, "Remaining time on")):
        amount = sign * round(price["unit_amount"] * remaining / length)
        add_invoice_item(
            state,
            subscription["customer"],
            amount,
            price["currency"],
            f"{text} {_product_name(state, price)} after {since}",
            proration=True,
            subscription=subscription["id"],
        )


def cancel_subscription(state: FakeState, params: dict[str, Any], id: str) -> Obj:
    """DELETE /v1/subscriptions/{id}: canceled now."""
    subscription = state.get("subscription", id)
    if subscription["status"] == "canceled":
        raise invalid("This subscription is already canceled.")
    _end(state, subscription, state.now())
    return subscription


def _end(state: FakeState, subscription: Obj, at: int) -> None:
    subscription.update(status="canceled", canceled_at=at, ended_at=at)
    state.emit("customer.subscription.deleted", subscription)


def advance_subscriptions(state: FakeState) -> None:
    """After the clock moved: end the subscriptions set to cancel, renew the others."""
    for subscription in state.all("subscription"):
        while subscription["status"] not in ("canceled", "incomplete"):
            end = subscription["current_period_end"]
            if state.now() < end:
                break
            if subscription["cancel_at_period_end"]:
                _end(state, subscription, end)
                break
            interval = subscription["items"]["data"][0]["price"]["recurring"]["interval"]
            subscription.update(
                current_period_start=end, current_period_end=end + INTERVAL_SECONDS[interval]
            )
            _bill_period(state, subscription)
