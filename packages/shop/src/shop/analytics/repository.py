"""The reports' queries: aggregated in the database, the same on SQLite and PostgreSQL.

Days and months are cut in UTC by :class:`day_of` and :class:`month_of`, compiled per dialect
(SQLite keeps timestamps as ``YYYY-MM-DD HH:MM:SS`` text in UTC; PostgreSQL formats the
``timestamptz`` at UTC), so both databases group the same rows into the same buckets.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, String, distinct, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

from shop.analytics.models import AnalyticsEvent, EventKind
from shop.catalogue.models import Product, Variant
from shop.orders.models import OrderLine

E = AnalyticsEvent


class _Bucket(FunctionElement[str]):
    type = String()
    inherit_cache = True
    #: Characters of the SQLite text form, and the PostgreSQL ``to_char`` pattern.
    width = 0
    pattern = ""


class day_of(_Bucket):  # noqa: N801 - used like a SQL function
    """``YYYY-MM-DD`` of a UTC timestamp column."""

    name = "day_of"
    inherit_cache = True
    width, pattern = 10, "YYYY-MM-DD"


class month_of(_Bucket):  # noqa: N801 - used like a SQL function
    """``YYYY-MM`` of a UTC timestamp column."""

    name = "month_of"
    inherit_cache = True
    width, pattern = 7, "YYYY-MM"


@compiles(day_of, "sqlite")
@compiles(month_of, "sqlite")
def _bucket_sqlite(element: _Bucket, compiler: SQLCompiler, **kw: Any) -> str:
    return f"substr({compiler.process(element.clauses, **kw)}, 1, {element.width})"


@compiles(day_of, "postgresql")
@compiles(month_of, "postgresql")
def _bucket_pg(element: _Bucket, compiler: SQLCompiler, **kw: Any) -> str:
    column = compiler.process(element.clauses, **kw)
    return f"to_char(({column}) AT TIME ZONE 'UTC', '{element.pattern}')"


@dataclass(frozen=True)
class Period:
    """Inclusive UTC days; None leaves that side open."""

    start: date | None = None
    end: date | None = None

    def conditions(self, column: Any) -> list[ColumnElement[bool]]:
        """``column`` within the period."""
        out: list[ColumnElement[bool]] = []
        if self.start:
            out.append(column >= datetime.combine(self.start, datetime.min.time(), UTC))
        if self.end:
            after = datetime.combine(self.end + timedelta(days=1), datetime.min.time(), UTC)
            out.append(column < after)
        return out


def _paid(when: Period) -> list[ColumnElement[bool]]:
    return [E.kind == EventKind.PAID.value, *when.conditions(E.at)]


async def sales_per_day(session: AsyncSession, when: Period) -> list[dict[str, Any]]:
    """Rows of day, currency, orders, revenue (order totals) and units."""
    units = (
        select(OrderLine.order_id, func.sum(OrderLine.quantity).label("units"))
        .group_by(OrderLine.order_id)
        .subquery()
    )
    day = day_of(E.at)
    stmt = (
        select(
            day.label("day"),
            E.currency,
            func.count(E.id).label("orders"),
            func.sum(E.amount).label("revenue"),
            func.coalesce(func.sum(units.c.units), 0).label("units"),
        )
        .outerjoin(units, units.c.order_id == E.order_id)
        .where(*_paid(when))
        .group_by(day, E.currency)
        .order_by(day, E.currency)
    )
    return [dict(row._mapping) for row in await session.execute(stmt)]


async def sales_per_product(session: AsyncSession, when: Period) -> list[dict[str, Any]]:
    """Rows of product, currency, orders, units and line revenue (before discount, shipping
    and tax, which belong to the order)."""
    revenue = func.sum(OrderLine.quantity * OrderLine.unit_price)
    stmt = (
        select(
            Product.id.label("product_id"),
            Product.slug,
            Product.name,
            E.currency,
            func.count(distinct(E.order_id)).label("orders"),
            func.sum(OrderLine.quantity).label("units"),
            revenue.label("revenue"),
        )
        .join(OrderLine, OrderLine.order_id == E.order_id)
        .join(Variant, Variant.id == OrderLine.variant_id)
        .join(Product, Product.id == Variant.product_id)
        .where(*_paid(when))
        .group_by(Product.id, Product.slug, Product.name, E.currency)
        .order_by(revenue.desc(), Product.slug, E.currency)
    )
    return [dict(row._mapping) for row in await session.execute(stmt)]


async def visitors_per_step(session: AsyncSession, when: Period) -> dict[str, int]:
    """Distinct known visitors per event kind."""
    stmt = (
        select(E.kind, func.count(distinct(E.visitor)))
        .where(E.visitor.is_not(None), *when.conditions(E.at))
        .group_by(E.kind)
    )
    return {kind: int(n) for kind, n in (await session.execute(stmt)).all()}


async def paid_totals(session: AsyncSession, when: Period) -> list[tuple[str, int, int]]:
    """(currency, paid orders, their summed totals)."""
    stmt = (
        select(E.currency, func.count(E.id), func.sum(E.amount))
        .where(*_paid(when))
        .group_by(E.currency)
        .order_by(E.currency)
    )
    return [(str(c), int(n), int(s or 0)) for c, n, s in (await session.execute(stmt)).all()]


async def customer_months(session: AsyncSession, until: date | None) -> list[tuple[uuid.UUID, str]]:
    """Each (customer, ``YYYY-MM``) with a paid order, up to ``until`` (every earlier month
    too: a cohort is the month of a customer's first order ever)."""
    month = month_of(E.at)
    stmt = (
        select(E.customer_id, month)
        .where(*_paid(Period(None, until)), E.customer_id.is_not(None))
        .group_by(E.customer_id, month)
    )
    return [(c, m) for c, m in (await session.execute(stmt)).all() if c is not None]
