"""Fraud screening at checkout: every placed order is scored before any capture.

Checkout places the order (stock held, nothing charged yet) and scores it in the same
transaction (:func:`shop.ml.fraud.service.assess`: one cache read, the cached rules and ONNX
forest; well under a millisecond of work), so the order and its verdict commit together and the
customer learns the outcome with the order:

* ``approve``: nothing changes; the customer pays and confirms as before.
* ``review``: the order stands and its payment may be authorised, but capture is held (409)
  until staff resolve the case: ``false_positive`` captures an authorised payment at once
  (else the customer's next confirm does), ``confirmed_fraud`` cancels the order and voids the
  authorisation (refunds a capture).
* ``decline``: the order is cancelled at once (its stock freed, no payment was taken) and the
  customer gets a neutral 403.

Without a trained fraud model the rules alone decide (:data:`shop.ml.serving.RULES_ONLY_REVIEW`
and ``RULES_ONLY_DECLINE``), so checkout never waits on training.
"""

from __future__ import annotations

import hashlib
import logging
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from forgekit.errors import ProblemError, ServiceUnavailable
from shop.ml.fraud import service as fraud
from shop.ml.fraud.data import OrderRow
from shop.ml.fraud.model import Decision
from shop.ml.models import CaseStatus, FraudCase
from shop.orders.models import Order
from shop.orders.service import orders
from shop.orders.states import IllegalTransition, Status
from shop.payments.models import PaymentStatus
from shop.payments.service import PaymentsUnavailable, payment_of

if TYPE_CHECKING:
    from shop.ml.serving import MlServing
    from shop.payments.service import PaymentService

log = logging.getLogger("shop.checkout.screening")

#: Header carrying the storefront's device id (a first-party cookie's value, say).
DEVICE_HEADER = "X-Device-Id"
#: Header the proxy sets to the client IP's country (ISO 3166 alpha-2; e.g. Cloudflare's
#: ``CF-IPCountry`` renamed); absent or not two letters: unknown.
COUNTRY_HEADER = "X-Client-Country"
#: History note of an order refused at checkout or after review (customers may read it).
REFUSED_NOTE = "refused at checkout"
_COUNTRY = re.compile(r"^[A-Z]{2}$")


class OrderRefused(ProblemError):
    """403: the order was refused (the message says nothing about why)."""

    status, slug, title = 403, "order-refused", "Order refused"


@dataclass(frozen=True)
class ClientSignals:
    """What the request tells about the buyer's device and network."""

    device: str
    #: The client IP's country, "" when unknown (no mismatch signal then).
    ip_country: str

    @classmethod
    def from_headers(
        cls, device_id: str | None, user_agent: str | None, country: str | None
    ) -> ClientSignals:
        """The ``X-Device-Id`` header, else a hash of the User-Agent; the proxy's country."""
        device = f"id:{device_id}" if device_id else f"ua:{_digest(user_agent or '')}"
        code = (country or "").strip().upper()
        # XX is the proxies' own "unknown"; T1 (Tor) has no country either.
        known = bool(_COUNTRY.match(code)) and code not in ("XX", "T1")
        return cls(device=device, ip_country=code if known else "")


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()[:24]


def customer_key(order: Order) -> str:
    """The fraud history's key: the account, or a guest's e-mail (hashed: no address in the
    cache or the case queue's keys; no ":" in a cache key part)."""
    if order.customer_id is not None:
        return str(order.customer_id)
    return f"guest-{_digest(order.email.strip().lower())}"


def address_key(address: Mapping[str, Any]) -> str:
    """A shipping address as an identifier: the same place however it is spaced or cased."""
    parts = (address.get(k) or "" for k in ("line1", "line2", "postcode", "country"))
    return f"addr:{_digest('|'.join(' '.join(str(p).lower().split()) for p in parts))}"


def order_row(order: Order, client: ClientSignals, joined: datetime | None) -> OrderRow:
    """The order as fraud scoring sees it. The shop takes no billing address, so the billing
    country is the shipping one (the card's country is not known before payment)."""
    country = str(order.shipping_address.get("country", ""))
    placed = order.created_at.timestamp()
    return OrderRow(
        order_id=str(order.id), customer=customer_key(order), amount_minor=order.total,
        currency=order.currency, time=placed, device=client.device,
        address=address_key(order.shipping_address), bill_country=country,
        ship_country=country, ip_country=client.ip_country,
        # A guest has no account: as young as the order.
        account_created=joined.timestamp() if joined is not None else placed,
    )  # fmt: skip


def require_serving(serving: MlServing | None) -> MlServing:
    """The process's fraud scoring (503 before anything is placed when it is not running)."""
    if serving is None:
        raise ServiceUnavailable("Checkout is not available in this process (no fraud checks).")
    return serving


async def score_order(
    session: AsyncSession,
    serving: MlServing,
    order: Order,
    client: ClientSignals,
    joined: datetime | None,
) -> FraudCase:
    """Score a placed order once (a retry returns the first case); commits."""
    await serving.refresh(session)
    return await fraud.score(session, serving, order_row(order, client, joined))


async def screen(
    session: AsyncSession,
    serving: MlServing,
    order: Order,
    client: ClientSignals,
    joined: datetime | None,
) -> fraud.Assessed:
    """Score a just-placed order in checkout's own transaction and act on a decline (cancel,
    commit, then :class:`OrderRefused`). Otherwise the case is added uncommitted: the caller
    commits it with the order and then calls :func:`shop.ml.fraud.service.settled`.

    The order and its verdict commit together, so an order is never payable without one: a
    scoring failure propagates before anything is committed (no order, no held unit), and no
    window or crash between two commits leaves an unscored order to capture. The caller
    refreshes the models (:meth:`MlServing.refresh`) before placing, so no model load happens
    while the order's stock rows are locked.
    """
    assessed = await fraud.assess(session, serving, order_row(order, client, joined))
    session.add(assessed.case)
    if assessed.case.decision == Decision.DECLINE:
        await orders.cancel(session, order.id, None, REFUSED_NOTE)  # commits order and case
        await fraud.settled(serving, assessed)
        raise OrderRefused(
            "We cannot accept this order. Please contact customer service if you believe "
            "this is a mistake.",
            order_id=str(order.id),
        )
    return assessed


def _order_id(order_ref: str) -> uuid.UUID | None:
    # Cases scored through POST /fraud/score carry the caller's own ids, not orders.
    try:
        return uuid.UUID(order_ref)
    except ValueError:
        return None


async def _held_order(session: AsyncSession, case_id: uuid.UUID) -> uuid.UUID | None:
    """The order a case holds for review (None: the case holds nothing)."""
    row = (
        await session.execute(
            select(FraudCase.order_ref).where(
                FraudCase.id == case_id,
                FraudCase.decision == Decision.REVIEW.value,
                FraudCase.status == CaseStatus.OPEN.value,
            )
        )
    ).first()
    return None if row is None else _order_id(row[0])


async def resolve(
    session: AsyncSession,
    payments: PaymentService,
    case_id: uuid.UUID,
    label: str,
    actor: uuid.UUID,
) -> FraudCase:
    """Record staff's verdict on a case (:func:`shop.ml.fraud.service.feedback`) and act on a
    held order: ``confirmed_fraud`` cancels it and voids its payment *before* the case closes
    (a provider failure leaves the case open to try again); ``false_positive`` closes the case
    and captures an authorised payment (a failure there is logged: the customer's next confirm
    captures)."""
    held = await _held_order(session, case_id)
    if held is not None and label == CaseStatus.CONFIRMED_FRAUD:
        await _refuse(session, payments, held, actor)
    case = await fraud.feedback(session, case_id, label, actor)
    if held is not None and label == CaseStatus.FALSE_POSITIVE:
        await _release(session, payments, held, actor)
    return case


async def _refuse(
    session: AsyncSession, payments: PaymentService, order_id: uuid.UUID, actor: uuid.UUID
) -> None:
    order = await session.get(Order, order_id)
    if order is not None and order.status in (Status.UNCONFIRMED, Status.UNFULFILLED):
        try:
            await orders.cancel(session, order_id, actor, REFUSED_NOTE)
        except IllegalTransition:
            # Moved meanwhile (expired, or cancelled by an earlier try): nothing left to free.
            await session.rollback()
    # No transaction stays open across the provider call (SQLite: the write lock).
    await session.commit()
    await payments.void(order_id)


async def _release(
    session: AsyncSession, payments: PaymentService, order_id: uuid.UUID, actor: uuid.UUID
) -> None:
    payment = await payment_of(session, order_id)
    await session.commit()
    if payment is None or payment.status != PaymentStatus.AUTHORIZED:
        return  # not paid yet: the customer's confirm captures, no longer held
    try:
        await payments.capture(order_id, actor)
    except PaymentsUnavailable as exc:
        log.warning("order %s released but not captured yet: %s", order_id, exc)
