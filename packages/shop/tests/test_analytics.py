"""Storefront events recorded as customers browse, buy and pay, and the analytics reports
over them: the same figures on SQLite and PostgreSQL (each test runs on both)."""

import csv
import io
import uuid
from collections import Counter
from datetime import UTC, datetime
from typing import Any

import httpx
from shop.analytics.models import AnalyticsEvent, EventKind
from shop.testing import ADDRESS, make_channel, make_product, staff_user, stock_variant
from sqlalchemy import select, update

from forgekit.identity.testing import TestUser, register_and_login
from forgekit.runtime import Runtime

JAN = datetime(2026, 1, 10, 12, tzinfo=UTC)
FEB = datetime(2026, 2, 3, 9, tzinfo=UTC)


async def _buy(
    client: httpx.AsyncClient, who: dict[str, str], variant: str, quantity: int
) -> dict[str, Any]:
    added = await client.post(
        "/api/v1/cart/lines", headers=who, json={"variant_id": variant, "quantity": quantity}
    )
    assert added.status_code == 200, added.text
    placed = await client.post("/api/v1/checkout", headers=who, json={"shipping_address": ADDRESS})
    assert placed.status_code == 201, placed.text
    order: dict[str, Any] = placed.json()
    return order


async def _confirm(client: httpx.AsyncClient, staff: TestUser, order: dict[str, Any]) -> None:
    resp = await client.post(f"/api/v1/orders/{order['id']}/confirm", headers=staff.headers)
    assert resp.status_code == 200, resp.text


async def _report(client: httpx.AsyncClient, staff: TestUser, path: str, **query: str) -> Any:
    resp = await client.get(f"/api/v1/analytics/{path}", headers=staff.headers, params=query)
    assert resp.status_code == 200, resp.text
    return resp.json()


async def test_events_feed_sales_funnel_order_value_and_cohorts(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    staff = await staff_user(client, runtime)
    await make_channel(client, staff)
    mug = await make_product(client, staff, slug="mug", prices={"eu": 1000})
    lamp = await make_product(client, staff, slug="lamp", prices={"eu": 2500})
    mug_v, lamp_v = mug["variants"][0]["id"], lamp["variants"][0]["id"]
    await stock_variant(client, staff, mug_v, {"main": 10})
    await stock_variant(client, staff, lamp_v, {"main": 10})
    ada, bob, cyd = [await register_and_login(client) for _ in range(3)]
    # Cyd browses anonymously with a cart token, then signs in: one visitor, not two.
    token = (await client.post("/api/v1/carts")).json()["token"]
    assert (
        await client.get("/api/v1/products/by-slug/mug", headers={"X-Cart-Token": token})
    ).is_success
    merged = await client.post("/api/v1/cart/merge", headers=cyd.headers, json={"token": token})
    assert merged.status_code == 200, merged.text
    await client.get("/api/v1/products/by-slug/lamp", headers=cyd.headers)
    await client.get("/api/v1/products/by-slug/lamp")  # nobody we can follow: not in the funnel
    # Ada buys 2 mugs in January and a lamp in February; Bob checks out a lamp, never pays.
    await client.get("/api/v1/products/by-slug/mug", headers=ada.headers)
    first = await _buy(client, ada.headers, mug_v, 2)
    await _confirm(client, staff, first)
    second = await _buy(client, ada.headers, lamp_v, 1)
    await _confirm(client, staff, second)
    await client.get("/api/v1/products/by-slug/lamp", headers=bob.headers)
    await _buy(client, bob.headers, lamp_v, 1)
    await runtime.events.drain(timeout_s=60)
    async with runtime.db.transaction() as session:
        # Pin the dates (everything in January, the second payment in February).
        await session.execute(update(AnalyticsEvent).values(at=JAN))
        await session.execute(
            update(AnalyticsEvent)
            .where(
                AnalyticsEvent.order_id == uuid.UUID(second["id"]), AnalyticsEvent.kind == "paid"
            )
            .values(at=FEB)
        )
    async with runtime.db.session() as session:
        kinds = (await session.scalars(select(AnalyticsEvent.kind))).all()
    assert Counter(kinds) == {
        EventKind.VIEWED: 5,  # one of them by nobody we can follow
        EventKind.CARTED: 3,
        EventKind.CHECKOUT: 3,
        EventKind.PAID: 2,
    }

    t1, t2 = first["total"], second["total"]
    assert await _report(client, staff, "sales/daily") == [
        {"day": "2026-01-10", "currency": "eur", "orders": 1, "revenue": t1, "units": 2},
        {"day": "2026-02-03", "currency": "eur", "orders": 1, "revenue": t2, "units": 1},
    ]
    products = await _report(client, staff, "sales/products")
    assert [(p["slug"], p["units"], p["revenue"], p["orders"]) for p in products] == [
        ("lamp", 1, 2500, 1),
        ("mug", 2, 2000, 1),
    ]
    feb = await _report(client, staff, "sales/products", start="2026-02-01", end="2026-02-28")
    assert [p["slug"] for p in feb] == ["lamp"]
    funnel = await _report(client, staff, "funnel")
    assert [(s["step"], s["visitors"]) for s in funnel] == [
        ("product_viewed", 3),
        ("added_to_cart", 2),
        ("checkout_started", 2),
        ("paid", 1),
    ]
    assert [s["rate_from_previous"] for s in funnel] == [1.0, 0.6667, 1.0, 0.5]
    assert funnel[-1]["rate_from_first"] == 0.3333
    assert await _report(client, staff, "average-order-value") == [
        {"currency": "eur", "orders": 2, "revenue": t1 + t2, "average": (t1 + t2 + 1) // 2}
    ]
    cohorts = await _report(client, staff, "cohorts", end="2026-03-31")
    assert [
        (c["cohort"], c["month"], c["customers"], c["ordering"], c["rate"]) for c in cohorts
    ] == [  # fmt: skip
        ("2026-01", "2026-01", 1, 1, 1.0),
        ("2026-01", "2026-02", 1, 1, 1.0),
        ("2026-01", "2026-03", 1, 0, 0.0),
    ]

    exported = await client.get(
        "/api/v1/analytics/sales/daily", headers=staff.headers, params={"format": "csv"}
    )
    assert exported.headers["content-type"].startswith("text/csv")
    assert list(csv.reader(io.StringIO(exported.text))) == [
        ["day", "currency", "orders", "revenue", "units"],
        ["2026-01-10", "eur", "1", str(t1), "2"],
        ["2026-02-03", "eur", "1", str(t2), "1"],
    ]
    # Customers may not read the reports; a period ending before it starts is refused.
    assert (await client.get("/api/v1/analytics/funnel", headers=ada.headers)).status_code == 403
    bad = await client.get(
        "/api/v1/analytics/cohorts",
        headers=staff.headers,
        params={"start": "2026-02-01", "end": "2026-01-01"},
    )
    assert bad.status_code == 422 and bad.headers["content-type"] == "application/problem+json"
