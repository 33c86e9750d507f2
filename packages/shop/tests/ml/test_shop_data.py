"""The trainers read the shop's own tables: a small shop seeded through the API (orders,
shipments, reviews, product views and cart adds) and checkout's fraud scoring, trained from on
both backends."""

from __future__ import annotations

import datetime as dt
import uuid
import warnings
from typing import Any

import httpx
from shop.analytics.models import AnalyticsEvent
from shop.inventory.models import Reservation
from shop.ml.fraud import service as fraud
from shop.ml.fraud.data import OrderRow
from shop.ml.models import CaseStatus, MlModelVersion
from shop.ml.training.service import run_training
from shop.ml.training.source import training_data
from shop.orders.models import Order
from shop.reviews.models import Review
from shop.testing import (
    ADDRESS,
    delivered_order,
    make_channel,
    make_product,
    staff_user,
    stock_variant,
)
from sqlalchemy import select, update

from forgekit.identity.testing import TestUser, register_and_login
from forgekit.runtime import Runtime

RATINGS = [1, 5, 4, 2, 5, 3]
WORDS = {1: "broke at once, awful", 2: "poor and late", 3: "it is okay",
         4: "good value, works", 5: "excellent, love it"}  # fmt: skip
#: Small enough for this shop; the defaults (MIN_SHOP_ROWS) would fall back to the generator.
SMALL = {"recs": 15, "fraud": 10, "sentiment": 6, "forecast": 126}


async def _seed(client: httpx.AsyncClient, runtime: Runtime) -> None:
    staff = await staff_user(client, runtime)
    await make_channel(client, staff)
    products = [await make_product(client, staff) for _ in range(3)]
    variants = [p["variants"][0]["id"] for p in products]
    for v in variants:
        await stock_variant(client, staff, v, {"main": 100})
    for i, stars in enumerate(RATINGS):
        customer = await register_and_login(client)
        await delivered_order(client, staff, customer, variants[i % 3])
        # A second order of the two other products: co-purchases.
        for v in variants[: i % 3] + variants[i % 3 + 1 :]:
            added = await client.post("/api/v1/cart/lines", headers=customer.headers,
                                      json={"variant_id": v})  # fmt: skip
            assert added.status_code == 200, added.text
        placed = await client.post("/api/v1/checkout", headers=customer.headers,
                                   json={"shipping_address": ADDRESS})  # fmt: skip
        assert placed.status_code == 201, placed.text
        review = await client.post(
            f"/api/v1/products/{products[i % 3]['id']}/reviews", headers=customer.headers,
            json={"rating": stars, "title": WORDS[stars], "body": WORDS[stars]},
        )  # fmt: skip
        assert review.status_code == 201, review.text


async def _spread_over_130_days(runtime: Runtime) -> list[Order]:
    """The seeded rows were written within seconds: spread them over 130 days in order."""
    now = dt.datetime.now(dt.UTC)
    async with runtime.db.transaction() as session:
        for model, column in (
            (Order, Order.created_at),
            (Reservation, Reservation.created_at),
            (Review, Review.created_at),
            (AnalyticsEvent, AnalyticsEvent.at),
        ):
            rows = list((await session.execute(select(model).order_by(column))).scalars())
            for i, row in enumerate(rows):
                when = now - dt.timedelta(days=130 * (1 - i / (len(rows) - 1)))
                setattr(row, column.key, when)
        orders = (await session.execute(select(Order).order_by(Order.created_at))).scalars()
        return list(orders)


async def _score_at_checkout(runtime: Runtime, orders: list[Order]) -> None:
    ml: Any = getattr(runtime, "ml", None)
    for order in orders:
        row = OrderRow(
            order_id=str(order.id), customer=str(order.customer_id), amount_minor=order.total,
            currency=order.currency, time=order.created_at.timestamp(), device="d",
            address="a", bill_country="DE", ship_country="DE", ip_country="DE",
            account_created=order.created_at.timestamp() - 86_400 * 200,
        )  # fmt: skip
        async with runtime.db.session() as session:
            case = await fraud.score(session, ml, row)
    # Staff confirm the last one as fraud: the label the trainer reads.
    async with runtime.db.session() as session:
        await fraud.feedback(session, case.id, CaseStatus.CONFIRMED_FRAUD, uuid.uuid4())


async def test_trainers_read_the_shops_own_tables(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    await _seed(client, runtime)
    orders = await _spread_over_130_days(runtime)
    assert len(orders) == 12
    await _score_at_checkout(runtime, orders)
    seen: dict[str, Any] = {}
    async with runtime.db.transaction() as session:
        # Under the default thresholds this shop is too small: the generator stands in.
        fallback = await training_data(session, "recs")
        assert (
            fallback.synthetic
            and "the shop has 36 interactions (views, cart adds, "
            "purchases) of signed-in customers, under the 500 needed"
            in fallback.source
        )
        for kind in ("recs", "sentiment", "fraud", "forecast"):
            data = await training_data(session, kind, minimum=SMALL)
            assert not data.synthetic, (kind, data.source)
            seen[kind] = data
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                run = await run_training(session, runtime.storage, kind, data)
            assert run.synthetic is False and run.outcome == "promoted", (kind, run.outcome)
            card = (await session.execute(select(MlModelVersion.card).where(
                MlModelVersion.kind == kind, MlModelVersion.version == run.version
            ))).scalar_one()  # fmt: skip
            assert card["data"]["synthetic"] is False
            assert card["data"]["source"].startswith("the shop's own data: ")
    # What each trainer read: 6 customers x 3 products carted and bought, 6 reviews, 12 scored
    # orders (one confirmed fraud), 3 products' daily demand at one warehouse over 131 days.
    recs = seen["recs"]
    assert (len(recs.interactions), recs.interactions.n_customers, len(recs.product_ids)) == (
        36, 6, 3)  # fmt: skip
    assert "(0 product views and 18 cart adds from shop_analytics_events, 18 purchases" in (
        recs.source)  # fmt: skip
    assert seen["sentiment"].labels == ["negative", "positive", "positive", "negative",
                                        "positive", "neutral"]  # fmt: skip
    assert [o.fraud for o in seen["fraud"].orders] == [False] * 11 + [True]
    series = seen["forecast"].series
    assert len(series) == 3 and {len(s.values) for s in series} == {131}
    assert sum(float(s.values.sum()) for s in series) == 18


async def _cart(client: httpx.AsyncClient, headers: dict[str, str], *variants: str) -> None:
    for v in variants:
        added = await client.post("/api/v1/cart/lines", headers=headers, json={"variant_id": v})
        assert added.status_code == 200, added.text


async def _buy(client: httpx.AsyncClient, who: TestUser, *variants: str) -> None:
    await _cart(client, who.headers, *variants)
    placed = await client.post("/api/v1/checkout", headers=who.headers,
                               json={"shipping_address": ADDRESS})  # fmt: skip
    assert placed.status_code == 201, placed.text


async def _view(
    client: httpx.AsyncClient, headers: dict[str, str], product: dict[str, Any]
) -> None:
    seen = await client.get(f"/api/v1/products/by-slug/{product['slug']}", headers=headers)
    assert seen.status_code == 200, seen.text


async def test_recs_learn_from_views_and_cart_adds(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    staff = await staff_user(client, runtime)
    await make_channel(client, staff)
    a, b, x, y, z = [await make_product(client, staff) for _ in range(5)]
    va, vb, vx, vy, vz = [p["variants"][0]["id"] for p in (a, b, x, y, z)]
    for v in (va, vb, vx, vy, vz):
        await stock_variant(client, staff, v, {"main": 50})
    ada, bob, dee, eve = [await register_and_login(client) for _ in range(4)]
    # Ada and Bob buy A and B, then look at X and cart it; nobody ever buys X. Dee buys A and
    # B like them; Eve's taste is elsewhere (Y, Z). 20 interactions in the first period.
    for who in (ada, bob):
        await _buy(client, who, va, vb)
        await _view(client, who.headers, x)
        await _cart(client, who.headers, vx)
    await _buy(client, dee, va, vb)
    await _buy(client, eve, vy, vz)
    past = dt.datetime.now(dt.UTC) - dt.timedelta(days=30)
    async with runtime.db.transaction() as session:
        for model, column in ((Order, Order.created_at), (AnalyticsEvent, AnalyticsEvent.at)):
            rows = list((await session.execute(select(model).order_by(column))).scalars())
            for i, row in enumerate(rows):
                setattr(row, column.key, past + dt.timedelta(minutes=i))
    # The next period (8 events): Dee comes back anonymously, looks at X three times and
    # carts it, then signs in (the merge makes those events hers); Eve browses A and B. A
    # stranger who never signs in looks at Y and Z: not a customer, not read.
    token = (await client.post("/api/v1/carts")).json()["token"]
    for _ in range(3):
        await _view(client, {"X-Cart-Token": token}, x)
    await _cart(client, {"X-Cart-Token": token}, vx)
    merged = await client.post("/api/v1/cart/merge", headers=dee.headers, json={"token": token})
    assert merged.status_code == 200, merged.text
    for p in (a, b):
        await _view(client, eve.headers, p)
    await _cart(client, eve.headers, va, vb)
    stranger = {"X-Cart-Token": (await client.post("/api/v1/carts")).json()["token"]}
    for p in (y, z):
        await _view(client, stranger, p)
    async with runtime.db.transaction() as session:
        # One instant for the whole next period, so the time split cuts exactly before it.
        await session.execute(
            update(AnalyticsEvent)
            .where(AnalyticsEvent.at > past + dt.timedelta(days=1))
            .values(at=dt.datetime.now(dt.UTC))
        )
        data = await training_data(session, "recs", minimum={"recs": 20})
        assert not data.synthetic, data.source
        assert data.source.startswith(
            "28 interactions of signed-in customers (7 product views and 13 cart adds from "
            "shop_analytics_events, 8 purchases from shop_order_lines)"
        ), data.source
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            run = await run_training(session, runtime.storage, "recs", data)
        assert run.outcome == "promoted" and run.synthetic is False
        card = (await session.execute(select(MlModelVersion.card).where(
            MlModelVersion.kind == "recs", MlModelVersion.version == run.version
        ))).scalar_one()  # fmt: skip
    assert "7 product views and 13 cart adds" in card["data"]["source"]
    # Trained on the first period, measured on the next: Dee (X) and Eve (A, B) are scored.
    assert run.metrics["test_customers"] == 2 and run.data_window["events"] == 28
    # X was only viewed and carted by Dee's neighbours: it is what ALS offers her first.
    ml: Any = getattr(runtime, "ml", None)
    await ml.refresh(force=True)  # the new version now, not at the next periodic check
    recs = await client.get("/api/v1/recommendations", headers=dee.headers,
                            params={"customer": str(dee.id), "k": 1})  # fmt: skip
    assert recs.status_code == 200, recs.text
    assert recs.json()["source"] == "als" and recs.json()["items"] == [x["id"]], recs.json()
