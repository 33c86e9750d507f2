"""Analytics over HTTP (staff holding ``analytics:read``): each report as JSON, or as CSV
with ``?format=csv``."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel

from forgekit.csv_export import CSV_RESPONSES, csv_response, csv_text
from forgekit.deps import SessionDep
from forgekit.identity.deps import require_scopes
from forgekit.identity.principal import Principal
from shop.analytics import service
from shop.analytics.repository import Period
from shop.analytics.schemas import (
    AverageOrderValue,
    CohortCell,
    FunnelStep,
    ProductSales,
    SalesDay,
)
from shop.permissions import Permission

router = APIRouter(prefix="/api/v1/analytics", tags=["analytics"])

Analyst = Annotated[Principal, Depends(require_scopes(Permission.ANALYTICS))]
#: Every report also answers ``?format=csv`` with the same rows as CSV (documented).
CSV = CSV_RESPONSES
Format = Annotated[Literal["json", "csv"], Query(description="`csv` downloads the rows.")]


def _period(
    start: Annotated[date | None, Query(description="First day (UTC), inclusive.")] = None,
    end: Annotated[date | None, Query(description="Last day (UTC), inclusive.")] = None,
) -> Period:
    return service.period(start, end)


PeriodDep = Annotated[Period, Depends(_period)]


def _rows(name: str, rows: Sequence[BaseModel], fmt: str, model: type[BaseModel]) -> object:
    """The rows as they are (JSON), or as a CSV attachment with one column per field."""
    if fmt == "json":
        return rows
    fields = list(model.model_fields)
    return csv_response(
        csv_text(fields, ([getattr(row, f) for f in fields] for row in rows)), f"{name}.csv"
    )


@router.get("/sales/daily", response_model=list[SalesDay], responses=CSV)
async def sales_daily(
    _: Analyst, session: SessionDep, when: PeriodDep, format: Format = "json"
) -> object:
    """Paid orders, revenue (order totals, minor units) and units per day and currency."""
    return _rows("sales-daily", await service.sales_per_day(session, when), format, SalesDay)


@router.get("/sales/products", response_model=list[ProductSales], responses=CSV)
async def sales_products(
    _: Analyst, session: SessionDep, when: PeriodDep, format: Format = "json"
) -> object:
    """Units and line revenue (minor units) per product and currency, best sellers first."""
    rows = await service.sales_per_product(session, when)
    return _rows("sales-products", rows, format, ProductSales)


@router.get("/funnel", response_model=list[FunnelStep], responses=CSV)
async def funnel(
    _: Analyst, session: SessionDep, when: PeriodDep, format: Format = "json"
) -> object:
    """Distinct visitors who viewed a product, added to a cart, started a checkout and paid,
    with the share of each step kept."""
    return _rows("funnel", await service.funnel(session, when), format, FunnelStep)


@router.get("/average-order-value", response_model=list[AverageOrderValue], responses=CSV)
async def average_order_value(
    _: Analyst, session: SessionDep, when: PeriodDep, format: Format = "json"
) -> object:
    """Paid orders' mean total per currency (minor units)."""
    rows = await service.average_order_value(session, when)
    return _rows("average-order-value", rows, format, AverageOrderValue)


@router.get("/cohorts", response_model=list[CohortCell], responses=CSV)
async def cohorts(
    _: Analyst, session: SessionDep, when: PeriodDep, format: Format = "json"
) -> object:
    """Retention: customers by the month of their first paid order, and the share of them
    paying for an order again in each following month."""
    return _rows("cohorts", await service.cohorts(session, when), format, CohortCell)
