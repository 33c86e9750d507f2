"""Connected accounts and transfers to them (Stripe Connect's ``/v1/accounts`` and
``/v1/transfers``).

A transfer succeeds unless a test armed a failure (``POST /_control/faults {"mode":
"transfer_failure"}``) or the destination is not a connected account of this fake. A refused
transfer is kept as a ``failed`` object, announced by ``transfer.failed``, and answered with
Stripe's 400 ``balance_insufficient`` (so, as any 4xx, replayed to a repeat of its key).
"""

from __future__ import annotations

from typing import Any

from forgekit.payments.fake import params as p
from forgekit.payments.fake.errors import FakeError, invalid
from forgekit.payments.fake.state import FakeState, Obj

_ACCOUNT_TYPES = ("express", "custom", "standard")


def create_account(state: FakeState, params: dict[str, Any]) -> Obj:
    """POST /v1/accounts: a connected account, ready to receive transfers."""
    country = p.text(params, "country", "US") or "US"
    if len(country) != 2 or not country.isalpha():
        raise invalid(f"Invalid country: {country}", "parameter_invalid_string", "country")
    account = state.add(
        "acct",
        "account",
        type=p.choice(params, "type", _ACCOUNT_TYPES, "express"),
        email=p.text(params, "email"),
        country=country.upper(),
        metadata=p.metadata(params),
        charges_enabled=False,
        payouts_enabled=True,
    )
    state.emit("account.created", account)
    return account


def create_transfer(state: FakeState, params: dict[str, Any]) -> Obj:
    """POST /v1/transfers: move ``amount`` to the ``destination`` account."""
    amount = p.integer(params, "amount", minimum=1)
    if amount is None:
        raise invalid("Missing required param: amount.", "parameter_missing", "amount")
    currency = p.currency(params)
    destination = p.required(params, "destination")
    known = state.objects.get(destination, {}).get("object") == "account"
    if known and not state.take_transfer_failure():
        transfer = _transfer(state, params, amount, currency, destination, "paid")
        state.emit("transfer.created", transfer)
        return transfer
    code, param, message = (
        ("balance_insufficient", "amount",
         "Your account has insufficient funds to cover the transfer.")
        if known
        else ("resource_missing", "destination", f"No such destination: '{destination}'")
    )  # fmt: skip
    transfer = _transfer(state, params, amount, currency, destination, "failed")
    transfer.update(failure_code=code, failure_message=message)
    state.emit("transfer.failed", transfer)
    raise FakeError(400, "invalid_request_error", message, code, param=param,
                    transfer={"id": transfer["id"]})  # fmt: skip


def _transfer(
    state: FakeState, params: dict[str, Any], amount: int, currency: str, destination: str,
    status: str,
) -> Obj:  # fmt: skip
    return state.add(
        "tr",
        "transfer",
        amount=amount,
        currency=currency,
        destination=destination,
        status=status,
        failure_code=None,
        failure_message=None,
        transfer_group=p.text(params, "transfer_group"),
        metadata=p.metadata(params),
        reversed=False,
        amount_reversed=0,
    )
