"""Recording storefront events, and the reports built from them.

Recording is one insert per event, on the request's session, after the request's own work
committed (checkout's in the same transaction as the order): a view or a cart add costs the
shop one more row, nothing more. The payment step is
written by the outbox consumer in :mod:`shop.analytics.tasks`, so it is recorded exactly once
whichever path (storefront, webhook, staff) confirmed the order.
"""

from __future__ import annotations

import hashlib
import uuid
from collections import defaultdict
from datetime import date
from typing import Any

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from forgekit.errors import Unprocessable
from forgekit.identity.principal import Principal
from shop.analytics import repository
from shop.analytics.models import AnalyticsEvent, EventKind
from shop.analytics.repository import Period
from shop.analytics.schemas import (
    AverageOrderValue,
    CohortCell,
    FunnelStep,
    ProductSales,
    SalesDay,
)

#: The funnel's steps in order.
FUNNEL = (EventKind.VIEWED, EventKind.CARTED, EventKind.CHECKOUT, EventKind.PAID)


def visitor_of(principal: Principal | None, cart_token: str | None) -> str | None:
    """Who is browsing: the signed-in customer, else the anonymous cart token's holder (the
    token itself is a credential, so only its hash is kept), else nobody we can follow."""
    if principal is not None:
        return f"u:{principal.user_id}"
    if cart_token:
        return anonymous_visitor(cart_token)
    return None


def visitor_of_cart(cart: str) -> str:
    """The visitor key of a cart key (``u:<user id>`` or ``a:<token>``)."""
    kind, _, rest = cart.partition(":")
    return cart if kind == "u" else anonymous_visitor(rest)


def anonymous_visitor(cart_token: str) -> str:
    """The visitor key of an anonymous cart token."""
    return "a:" + hashlib.sha256(cart_token.encode()).hexdigest()[:32]


async def record(
    session: AsyncSession, kind: EventKind, visitor: str | None, *, commit: bool = True,
    **fields: Any,
) -> None:  # fmt: skip
    """Append one event and commit (the caller's own writes are already committed), or with
    ``commit=False`` leave it to commit with the caller's transaction (checkout)."""
    session.add(AnalyticsEvent(kind=kind.value, visitor=visitor, **fields))
    if commit:
        await session.commit()


async def adopt_anonymous(session: AsyncSession, cart_token: str, user_id: uuid.UUID) -> None:
    """At sign-in, the anonymous visitor's events become the customer's: one funnel per
    person, not one per device session. Commits."""
    await session.execute(
        update(AnalyticsEvent)
        .where(AnalyticsEvent.visitor == anonymous_visitor(cart_token))
        .values(visitor=f"u:{user_id}", customer_id=user_id),
        execution_options={"synchronize_session": False},
    )
    await session.commit()


def period(start: date | None, end: date | None) -> Period:
    """The reports' date filter (inclusive days, UTC); 422 when it ends before it starts."""
    if start and end and end < start:
        raise Unprocessable("The period ends before it starts.", start=str(start), end=str(end))
    return Period(start, end)


async def sales_per_day(session: AsyncSession, when: Period) -> list[SalesDay]:
    """Paid orders, revenue and units per day and currency."""
    return [SalesDay(**row) for row in await repository.sales_per_day(session, when)]


async def sales_per_product(session: AsyncSession, when: Period) -> list[ProductSales]:
    """Units and line revenue per product and currency, best sellers first."""
    return [ProductSales(**row) for row in await repository.sales_per_product(session, when)]


async def funnel(session: AsyncSession, when: Period) -> list[FunnelStep]:
    """Distinct visitors at each step, with the share kept from the previous step and from
    the first."""
    counts = await repository.visitors_per_step(session, when)
    steps: list[FunnelStep] = []
    first = counts.get(FUNNEL[0].value, 0)
    previous = first
    for kind in FUNNEL:
        n = counts.get(kind.value, 0)
        steps.append(
            FunnelStep(
                step=kind.value,
                visitors=n,
                rate_from_previous=_rate(n, previous),
                rate_from_first=_rate(n, first),
            )
        )
        previous = n
    return steps


async def average_order_value(session: AsyncSession, when: Period) -> list[AverageOrderValue]:
    """Paid orders' mean total per currency (minor units, rounded half up)."""
    out = []
    for currency, orders, revenue in await repository.paid_totals(session, when):
        mean = (2 * revenue + orders) // (2 * orders)
        out.append(
            AverageOrderValue(currency=currency, orders=orders, revenue=revenue, average=mean)
        )
    return out


async def cohorts(session: AsyncSession, when: Period) -> list[CohortCell]:
    """Customers grouped by the month of their first paid order (cohorts starting in the
    period); for that month and each later one up to the period's end, how many of them paid
    for an order again."""
    months: dict[uuid.UUID, set[int]] = defaultdict(set)
    for customer, month in await repository.customer_months(session, when.end):
        months[customer].add(_month_index(month))
    members: dict[int, list[set[int]]] = defaultdict(list)
    for active in months.values():
        members[min(active)].append(active)
    last = _index_of(when.end) if when.end else max((max(a) for a in months.values()), default=0)
    low = _index_of(when.start) if when.start else 0
    return [
        cell
        for first in sorted(m for m in members if m >= low)
        for cell in _cohort_row(first, members[first], last)
    ]


def _cohort_row(first: int, group: list[set[int]], last: int) -> list[CohortCell]:
    """One cohort's cells, from its first month to ``last``."""
    cells = []
    for offset in range(last - first + 1):
        back = sum(1 for active in group if first + offset in active)
        cells.append(
            CohortCell(
                cohort=_month_label(first),
                month=_month_label(first + offset),
                months_after=offset,
                customers=len(group),
                ordering=back,
                rate=_rate(back, len(group)),
            )
        )
    return cells


def _index_of(day: date) -> int:
    return day.year * 12 + day.month - 1


def _rate(part: int, whole: int) -> float:
    return round(part / whole, 4) if whole else 0.0


def _month_index(label: str) -> int:
    year, month = label.split("-")
    return int(year) * 12 + int(month) - 1


def _month_label(index: int) -> str:
    return f"{index // 12:04d}-{index % 12 + 1:02d}"
