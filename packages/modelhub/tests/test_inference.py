"""Hosted inference over HTTP: tensors checked against the signature, batches, caching,
authorisation (scope or grant), rate limits and the free tier before the model runs, and
metering (one usage event per request id)."""

from __future__ import annotations

import base64
import uuid

import httpx
import numpy as np
import onnxruntime as ort
from modelhub.grants.models import ModelGrant
from modelhub.testing import HostedModel, affine_onnx, host_model
from modelhub.usage.models import UsageEvent, UsageHourly
from sqlalchemy import func, select

from forgekit.identity.testing import create_api_key, register_and_login
from forgekit.runtime import Runtime

PROBLEM = "application/problem+json"


def _reference(x: np.ndarray) -> np.ndarray:
    session = ort.InferenceSession(affine_onnx(), providers=["CPUExecutionProvider"])
    return np.asarray(session.run(["y"], {"x": x})[0])


async def _count(runtime: Runtime, table: type, **where: object) -> int:
    async with runtime.db.session() as s:
        stmt = select(func.count()).select_from(table)
        for k, v in where.items():
            stmt = stmt.where(getattr(table, k) == v)
        return int((await s.execute(stmt)).scalar_one())


async def test_json_and_base64_tensors_give_the_models_answer(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    hosted = await host_model(client, runtime, affine_onnx())
    consumer = await register_and_login(client)
    x = np.arange(8, dtype=np.float32).reshape(2, 4) / 7
    resp = await client.post(hosted.infer_url(), json={"inputs": {"x": x.tolist()}},
                             headers=consumer.headers)  # fmt: skip
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["model"] == hosted.slug and body["version"] == "1.0.0" and not body["cached"]
    np.testing.assert_allclose(body["outputs"]["y"], _reference(x), rtol=1e-5)
    encoded = {"b64": base64.b64encode(x.astype("<f4").tobytes()).decode(), "dtype": "float32",
               "shape": [2, 4]}  # fmt: skip
    resp = await client.post(hosted.infer_url("latest"), headers=consumer.headers,
                             json={"inputs": {"x": encoded}, "output_format": "b64"})  # fmt: skip
    assert resp.status_code == 200, resp.text
    out = resp.json()["outputs"]["y"]
    y = np.frombuffer(base64.b64decode(out["b64"]), dtype="<f4").reshape(out["shape"])
    np.testing.assert_allclose(y, _reference(x), rtol=1e-5)
    # A batch: several instances in one call, each answered in order.
    rows = [np.full((1, 4), i, dtype=np.float32) for i in range(5)]
    resp = await client.post(hosted.infer_url(), headers=consumer.headers,
                             json={"instances": [{"x": r.tolist()} for r in rows]})  # fmt: skip
    assert resp.status_code == 200, resp.text
    for r, result in zip(rows, resp.json()["results"], strict=True):
        np.testing.assert_allclose(result["outputs"]["y"], _reference(r), rtol=1e-5)
    # Three calls, three usage events (the batch is one call of five items).
    assert await _count(runtime, UsageEvent, consumer_id=consumer.id) == 3
    async with runtime.db.session() as s:
        hour = (await s.execute(select(UsageHourly))).scalar_one()
    assert (hour.calls, hour.items) == (3, 7)


async def test_inputs_that_do_not_fit_the_signature_are_422_problems(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    hosted = await host_model(client, runtime, affine_onnx())
    consumer = await register_and_login(client)
    good = [[0.0, 1.0, 2.0, 3.0]]
    bad_bodies = [
        {"inputs": {"x": [[0.0, 1.0, 2.0]]}},  # fixed axis of 4
        {"inputs": {"x": [0.0, 1.0, 2.0, 3.0]}},  # rank 1
        {"inputs": {"x": [[0.0, 1.0], [2.0]]}},  # ragged
        {"inputs": {"x": [["a", "b", "c", "d"]]}},  # strings
        {"inputs": {"z": good}},  # unknown name, x missing
        {"inputs": {"x": good, "z": good}},
        {"inputs": {"x": {"data": good, "dtype": "int64"}}},
        {"inputs": {"x": {"data": good, "shape": [4, 1]}}},
        {"inputs": {"x": {"b64": "AAAA", "dtype": "float32", "shape": [1, 4]}}},  # 3 bytes
        {"inputs": {"x": {"b64": "not base64!", "dtype": "float32", "shape": [1, 4]}}},
        {"inputs": {"x": {"b64": "AAAAAA==", "dtype": "float64", "shape": [1, 4]}}},
        {"inputs": {"x": np.zeros((0, 4)).tolist()}},  # no rows
        {"inputs": {"x": good}, "instances": [{"x": good}]},
        {},
        {"instances": []},
        {"inputs": {"x": good}, "output_format": "xml"},
        {"inputs": {"x": good}, "extra": 1},
    ]
    for body in bad_bodies:
        resp = await client.post(hosted.infer_url(), json=body, headers=consumer.headers)
        assert resp.status_code == 422, (body, resp.text)
        assert resp.headers["content-type"].startswith(PROBLEM)
    malformed = await client.post(hosted.infer_url(), content=b"{", headers={
        **consumer.headers, "content-type": "application/json"})  # fmt: skip
    assert malformed.status_code in (400, 422) and malformed.headers["content-type"].startswith(
        PROBLEM
    )
    # Integers are read as float32 (lossless); nothing bad was metered.
    ints = await client.post(hosted.infer_url(), json={"inputs": {"x": [[0, 1, 2, 3]]}},
                             headers=consumer.headers)  # fmt: skip
    assert ints.status_code == 200, ints.text
    assert await _count(runtime, UsageEvent) == 1
    missing = await client.post(f"{hosted.base}/versions/9.9.9/infer", json={"inputs": {"x": good}},
                                headers=consumer.headers)  # fmt: skip
    assert missing.status_code == 404


async def test_scope_or_grant_authorises_and_the_rate_limit_comes_first(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    hosted = await host_model(client, runtime, affine_onnx())
    # Per hour: no call comes back to the quota while a slow machine runs the test.
    runtime.app_settings.infer_rate = "3/hour"  # type: ignore[attr-defined]
    consumer = await register_and_login(client)
    body = {"inputs": {"x": [[0.0, 1.0, 2.0, 3.0]]}}
    assert (await client.post(hosted.infer_url(), json=body)).status_code == 401
    other = {"X-API-Key": (await create_api_key(client, consumer, ["inference:nobody1/x"]))["key"]}
    denied = await client.post(hosted.infer_url(), json=body, headers=other)
    assert denied.status_code == 403 and denied.headers["content-type"].startswith(PROBLEM)
    assert denied.json()["missing_scopes"] == [f"inference:{hosted.slug}"]
    # A purchase grant opens the model to the same key.
    async with runtime.db.transaction() as s:
        model_id = (await client.get(hosted.base, headers=consumer.headers)).json()["id"]
        s.add(ModelGrant(consumer_id=consumer.id, model_id=uuid.UUID(model_id), source="purchase"))
    assert (await client.post(hosted.infer_url(), json=body, headers=other)).status_code == 200
    scoped = {"X-API-Key": (await create_api_key(
        client, consumer, [f"inference:{hosted.slug}"]))["key"]}  # fmt: skip
    for _ in range(3):
        ok = await client.post(hosted.infer_url(), json=body, headers=scoped)
        assert ok.status_code == 200, ok.text
        assert "RateLimit-Remaining" in ok.headers or "ratelimit-remaining" in ok.headers
    limited = await client.post(hosted.infer_url(), json=body, headers=scoped)
    assert limited.status_code == 429 and "Retry-After" in limited.headers
    assert await _count(runtime, UsageEvent) == 4  # the limited call never ran nor counted


async def test_a_retried_request_id_is_counted_once_and_other_inputs_conflict(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    hosted = await host_model(client, runtime, affine_onnx())
    consumer = await register_and_login(client)
    body = {"inputs": {"x": [[0.0, 1.0, 2.0, 3.0]]}}
    key = {**consumer.headers, "Idempotency-Key": "req-1"}
    first = await client.post(hosted.infer_url(), json=body, headers=key)
    again = await client.post(hosted.infer_url(), json=body, headers=key)
    assert first.status_code == again.status_code == 200
    assert again.headers["Idempotent-Replayed"] == "true"
    assert first.json()["outputs"] == again.json()["outputs"]
    other = await client.post(hosted.infer_url(), json={"inputs": {"x": [[9.0, 9.0, 9.0, 9.0]]}},
                              headers=key)  # fmt: skip
    assert other.status_code == 409 and other.headers["content-type"].startswith(PROBLEM)
    assert await _count(runtime, UsageEvent, consumer_id=consumer.id) == 1
    bad_key = await client.post(hosted.infer_url(), json=body,
                                headers={**consumer.headers, "Idempotency-Key": "x" * 129})  # fmt: skip
    assert bad_key.status_code == 422


async def test_free_tier_then_402_and_deterministic_answers_are_cached(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    hosted: HostedModel = await host_model(
        client, runtime, affine_onnx(), name="paid",
        pricing={"free_calls_per_month": 2, "price_per_1k_calls": "1.50"},
        metadata={"deterministic": True},
    )  # fmt: skip
    consumer = await register_and_login(client)
    body = {"inputs": {"x": [[0.5, 1.0, 2.0, 3.0]]}}
    first = await client.post(hosted.infer_url(), json=body, headers=consumer.headers)
    second = await client.post(hosted.infer_url(), json=body, headers=consumer.headers)
    assert first.status_code == second.status_code == 200
    assert (first.json()["cached"], second.json()["cached"]) == (False, True)
    assert first.json()["outputs"] == second.json()["outputs"]
    over = await client.post(hosted.infer_url(), json=body, headers=consumer.headers)
    assert over.status_code == 402 and over.headers["content-type"].startswith(PROBLEM)
    assert over.json()["free_calls_per_month"] == 2
    # The publisher calls their own model freely.
    mine = await client.post(hosted.infer_url(), json=body, headers=hosted.publisher.headers)
    assert mine.status_code == 200
    usage = (await client.get("/api/v1/usage", headers=consumer.headers,
                              params={"model": hosted.slug, "granularity": "month"})).json()  # fmt: skip
    assert [(r["calls"], r["free_calls"], r["billable_calls"]) for r in usage["rows"]] == [
        (2, 2, 0)
    ]


async def test_metering_events_are_not_audited(client: httpx.AsyncClient, runtime: Runtime) -> None:
    """``usage.recorded`` (one per billable call) is excluded from the audit log, whose row per
    call doubled the metering writes; the usage tables record it, other events stay audited."""
    from forgekit.events.models import AuditLog, OutboxMessage

    hosted = await host_model(client, runtime, affine_onnx())
    consumer = await register_and_login(client)
    for _ in range(3):
        resp = await client.post(hosted.infer_url(), json={"inputs": {"x": [[0.0] * 4]}},
                                 headers=consumer.headers)  # fmt: skip
        assert resp.status_code == 200, resp.text
    assert await _count(runtime, OutboxMessage, event_type="usage.recorded") == 3
    await runtime.events.drain(30)
    async with runtime.db.session() as s:
        audited = set((await s.scalars(select(AuditLog.event_type))).all())
    assert "usage.recorded" not in audited
    assert "model.created" in audited
