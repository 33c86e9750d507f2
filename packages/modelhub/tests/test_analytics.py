"""Hourly aggregates under late events, and the analytics endpoints: publisher dashboard
(calls, errors, latency, revenue in minor units), consumer spend, top models."""

from __future__ import annotations

import uuid
from datetime import timedelta

import httpx
from modelhub.analytics.money import charge, share
from modelhub.registry.models import MarketModel
from modelhub.testing import affine_onnx, host_model
from modelhub.usage.models import UsageEvent, UsageHourly
from modelhub.usage.repository import hour_of
from modelhub.usage.service import usage
from sqlalchemy import func, select

from forgekit.db.base import utcnow
from forgekit.identity.testing import register_and_login
from forgekit.runtime import Runtime

BODY = {"inputs": {"x": [[0.0, 1.0, 2.0, 3.0]]}}


def _event(consumer: uuid.UUID, model: uuid.UUID, request_id: str, hours_ago: int) -> UsageEvent:
    at = utcnow() - timedelta(hours=hours_ago)
    return UsageEvent(id=uuid.uuid4(), consumer_id=consumer, model_id=model, version="1.0.0",
                      request_id=request_id, input_sha256="0" * 64, items=1, compute_ms=5,
                      latency_ms=7, cached=False, occurred_at=at, recorded_at=utcnow())  # fmt: skip


async def test_late_events_land_in_their_own_hour_and_retries_never_double(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    hosted = await host_model(client, runtime, affine_onnx())
    consumer = await register_and_login(client)
    async with runtime.db.transaction() as s:
        model = (await s.execute(select(MarketModel))).scalar_one()
    # Recorded in this order: now, now, then one from 3 hours ago (late), then its retry.
    for rid, ago in (("a", 0), ("b", 0), ("late", 3), ("late", 3)):
        async with runtime.db.transaction() as s:
            await usage.meter(s, model, _event(consumer.id, model.id, rid, ago))
    async with runtime.db.session() as s:
        hours = {
            h.hour: (h.calls, h.revision) for h in (await s.execute(select(UsageHourly))).scalars()
        }
        events = (await s.execute(select(func.count()).select_from(UsageEvent))).scalar_one()
    now = hour_of(utcnow())
    assert events == 3
    assert hours == {now: (2, 2), now - timedelta(hours=3): (1, 1)}
    report = (
        await client.get(
            "/api/v1/usage",
            headers=consumer.headers,
            params={"granularity": "hour", "start": (now - timedelta(hours=5)).isoformat()},
        )
    ).json()
    assert [(r["calls"]) for r in report["rows"]] == [1, 2]
    assert report["rows"][0]["model"] == hosted.slug
    bad = await client.get("/api/v1/usage", headers=consumer.headers,
                           params={"start": "2026-01-02T00:00:00"})  # fmt: skip
    assert bad.status_code == 422 and bad.headers["content-type"].startswith(
        "application/problem+json"
    )


async def test_publisher_dashboard_consumer_spend_and_top_models(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    pricing = {"free_calls_per_month": 1, "price_per_1k_calls": "2.50"}
    hosted = await host_model(client, runtime, affine_onnx(), name="paid", pricing=pricing)
    consumer = await register_and_login(client)
    async with runtime.db.transaction() as s:
        from modelhub.grants.models import ModelGrant

        model = (await s.execute(select(MarketModel))).scalar_one()
        s.add(ModelGrant(consumer_id=consumer.id, model_id=model.id, source="purchase"))
    for _ in range(5):
        resp = await client.post(hosted.infer_url(), json=BODY, headers=consumer.headers)
        assert resp.status_code == 200, resp.text
    bad = await client.post(hosted.infer_url(), json={"inputs": {"x": [[1.0]]}},
                            headers=consumer.headers)  # fmt: skip
    assert bad.status_code == 422  # refused before the model: neither a call nor an error
    pub = hosted.publisher.headers
    dash = await client.get(
        "/api/v1/analytics/publisher", headers=pub, params={"granularity": "month"}
    )
    assert dash.status_code == 200, dash.text
    [row] = dash.json()["rows"]
    assert (row["model"], row["calls"], row["errors"], row["billable_calls"]) == (
        hosted.slug,
        5,
        0,
        4,
    )
    assert row["latency_p50_ms"] is not None and row["latency_p95_ms"] >= row["latency_p50_ms"]
    # 4 billable calls at 2.50 per 1,000 = 1 cent; compute is not priced here.
    assert (row["revenue"], row["publisher_revenue"], row["currency"]) == (1, 0, "usd")
    spend = (await client.get("/api/v1/analytics/spend", headers=consumer.headers)).json()
    assert [(r["model"], r["calls"], r["billable_calls"], r["spend"]) for r in spend["rows"]] == [
        (hosted.slug, 5, 4, 1)
    ]
    top = (await client.get("/api/v1/analytics/top-models", headers=consumer.headers)).json()
    assert top["rows"] == [{"model": hosted.slug, "calls": 5, "consumers": 1}]
    assert (
        await client.get("/api/v1/analytics/publisher", headers=consumer.headers)
    ).status_code == 403
    assert (await client.get("/api/v1/analytics/spend")).status_code == 401


def test_money_is_integer_minor_units_rounded_once() -> None:
    pricing = {"price_per_1k_calls": "1.2345", "price_per_compute_second": "0.000125"}
    # 1,000 calls = 1.2345 → 123.45 cents; 4 s of compute = 0.0005 → 0.05 cents; total 123.5 → 124.
    assert charge(pricing, 1000, 4000) == 124
    assert charge({}, 10**6, 10**6) == 0
    assert share(124, 8000) == 99 and share(1, 8000) == 0


async def test_a_model_that_times_out_counts_an_error_not_a_call(
    client: httpx.AsyncClient, runtime: Runtime, monkeypatch
) -> None:
    from modelhub.inference.service import inference

    from forgekit.inference import InferenceTimeout

    hosted = await host_model(client, runtime, affine_onnx())
    consumer = await register_and_login(client)

    async def too_slow(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise InferenceTimeout(hosted.slug, 0.01)

    monkeypatch.setattr(inference, "compute", too_slow)
    resp = await client.post(hosted.infer_url(), json=BODY, headers=consumer.headers)
    assert resp.status_code == 504 and resp.headers["content-type"].startswith(
        "application/problem+json"
    )
    dash = (
        await client.get("/api/v1/analytics/publisher", headers=hosted.publisher.headers)
    ).json()
    assert [(r["calls"], r["errors"], r["billable_calls"]) for r in dash["rows"]] == [(0, 1, 0)]
