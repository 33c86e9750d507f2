"""The trainers read the shop's own tables: a small shop seeded through the API (orders,
shipments, reviews) and checkout's fraud scoring, trained from on both backends."""

from __future__ import annotations

import datetime as dt
import uuid
import warnings
from typing import Any

import httpx
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
from sqlalchemy import select

from forgekit.identity.testing import register_and_login
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
        for model in (Order, Reservation, Review):
            rows = (await session.execute(select(model).order_by(model.created_at))).scalars()
            rows = list(rows)
            for i, row in enumerate(rows):
                row.created_at = now - dt.timedelta(days=130 * (1 - i / (len(rows) - 1)))
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
        assert fallback.synthetic and "the shop has 18 purchase events, under the 500" in (
            fallback.source
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
    # What each trainer read: 6 customers x 3 products bought, 6 reviews, 12 scored orders
    # (one confirmed fraud), 3 products' daily demand at one warehouse over 131 days.
    recs = seen["recs"]
    assert (len(recs.interactions), recs.interactions.n_customers, len(recs.product_ids)) == (
        18, 6, 3)  # fmt: skip
    assert seen["sentiment"].labels == ["negative", "positive", "positive", "negative",
                                        "positive", "neutral"]  # fmt: skip
    assert [o.fraud for o in seen["fraud"].orders] == [False] * 11 + [True]
    series = seen["forecast"].series
    assert len(series) == 3 and {len(s.values) for s in series} == {131}
    assert sum(float(s.values.sum()) for s in series) == 18
