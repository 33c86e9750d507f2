"""A farm's webhooks end to end, on both backends: a farm admin registers a URL, a batch job
ends, the kit's delivery loop calls a real loopback receiver with a signed ``job.completed``
(verified by an implementation independent of the sender's), retries a failing receiver,
refuses private URLs without the opt-in, and keeps viewers out."""

from __future__ import annotations

import asyncio
import io
import time
import uuid
import zipfile
from typing import Any

import httpx
import pytest
from aquaculture.app import create_app
from aquaculture.settings import AquacultureSettings
from aquaculture.testing import fish_png, make_farm
from sqlalchemy import func, select

from forgekit.identity.testing import register_and_login
from forgekit.runtime import Runtime
from forgekit.testing.loopback import HttpReceiver, independent_verify, serve_asgi

SECRET = "whsec_aquaculture_0123456789"
FAST: dict[str, Any] = {
    "webhooks_allow_private_networks": True,
    "webhook_retry_base_s": 0.3,
    "webhook_retry_max_s": 2.0,
    "webhook_poll_s": 0.05,
    # Receivers share the test's event loop: a busy machine can take seconds to answer, and a
    # timeout would be an unplanned failed attempt.
    "webhook_timeout_s": 30.0,
    "batch_inline_max": 2,
}


@pytest.fixture
def aqua_settings(request: pytest.FixtureRequest) -> AquacultureSettings:
    return AquacultureSettings(_env_file=None, **{**FAST, **getattr(request, "param", {})})


@pytest.fixture
def app_factory(aqua_settings: AquacultureSettings):
    return lambda settings: create_app(settings, aqua_settings)


def _zip(images: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        for name, data in images.items():
            z.writestr(name, data)
    return out.getvalue()


async def _run_job(client: httpx.AsyncClient, headers: dict[str, str], farm: str, tank: str,
                   archive: bytes) -> dict[str, Any]:  # fmt: skip
    resp = await client.post(f"/api/v1/farms/{farm}/tanks/{tank}/observations", headers=headers,
                             files={"file": ("b.zip", archive, "application/zip")})  # fmt: skip
    assert resp.status_code == 202, resp.text
    return dict(resp.json()["job"])


async def _submit_job(runtime: Runtime, farm: str, tank: str, user_id: uuid.UUID,
                      archive: bytes) -> None:  # fmt: skip
    from aquaculture import events
    from aquaculture.observations.models import BatchJob

    from forgekit.events.outbox import enqueue

    stored = await runtime.storage.put_bytes(archive)
    async with runtime.db.transaction() as s:
        job = BatchJob(farm_id=uuid.UUID(farm), tank_id=uuid.UUID(tank), created_by=user_id,
                       archive_sha256=stored.key, total=3, status="queued")  # fmt: skip
        s.add(job)
        await s.flush()
        await enqueue(s, events.BATCH_SUBMITTED, events.BATCH_SUBMITTED.payload(
            job_id=job.id, farm_id=job.farm_id, tank_id=job.tank_id, images=3))  # fmt: skip


async def _deliveries(client, headers, farm, hook, *, done_count: int) -> list[dict[str, Any]]:
    deadline = time.monotonic() + 60
    while True:
        resp = await client.get(f"/api/v1/farms/{farm}/webhooks/{hook}/deliveries", headers=headers)
        assert resp.status_code == 200, resp.text
        rows = resp.json()
        if sum(r["status"] != "pending" for r in rows) >= done_count:
            return list(rows)
        assert time.monotonic() < deadline, rows
        await asyncio.sleep(0.05)


async def test_a_finished_job_calls_the_farms_webhook_signed(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    receiver = HttpReceiver(script=[503])  # the first attempt fails: the loop retries
    async with serve_asgi(receiver) as base:
        user = await register_and_login(client)
        farm, _, tank = await make_farm(client, user.headers)
        hook = await client.post(f"/api/v1/farms/{farm}/webhooks", headers=user.headers,
                                 json={"url": f"{base}/hooks/aqua", "secret": SECRET})  # fmt: skip
        assert hook.status_code == 201, hook.text
        assert hook.json()["events"] == ["job.completed", "job.failed"]
        assert "secret" not in hook.json()
        job = await _run_job(client, user.headers, farm, tank,
                             _zip({f"f{i}.png": fish_png(i % 6, seed=i, size=48) for i in range(3)}))  # fmt: skip
        requests = await receiver.wait_for(2, timeout_s=60)
        rows = await _deliveries(client, user.headers, farm, hook.json()["id"], done_count=1)
    for req in requests:
        assert req.path == "/hooks/aqua" and req.method == "POST"
        assert independent_verify(SECRET, req.body, req.headers["aquaculture-signature"])
        assert not independent_verify("another-secret-of-16", req.body,
                                      req.headers["aquaculture-signature"])  # fmt: skip
        assert req.headers["aquaculture-event"] == "job.completed"
    body = requests[1].json()
    assert body["type"] == "job.completed"
    assert body["payload"]["job_id"] == job["id"] and body["payload"]["processed"] == 3
    # One delivery (same id on both attempts: receivers deduplicate on it), two attempts.
    assert requests[0].headers["aquaculture-delivery"] == requests[1].headers["aquaculture-delivery"]
    assert [(r["status"], r["attempt_count"], r["event_type"]) for r in rows] == [
        ("succeeded", 2, "job.completed")
    ]
    # A redelivered event plans nothing new (the log's unique key).
    from aquaculture.webhooks.models import WebhookDelivery

    await runtime.events.drain(60)
    async with runtime.db.session() as s:
        assert await s.scalar(select(func.count()).select_from(WebhookDelivery)) == 1


async def test_a_failed_job_sends_job_failed_only_to_subscribers(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    failed_rx, completed_rx = HttpReceiver(), HttpReceiver()
    async with serve_asgi(failed_rx) as a, serve_asgi(completed_rx) as b:
        user = await register_and_login(client)
        farm, _, tank = await make_farm(client, user.headers)
        for url, kinds in ((a, ["job.failed"]), (b, ["job.completed"])):
            resp = await client.post(f"/api/v1/farms/{farm}/webhooks", headers=user.headers,
                                     json={"url": url, "secret": SECRET, "events": kinds})  # fmt: skip
            assert resp.status_code == 201, resp.text
        # A job whose stored archive turns out unreadable (as if damaged at rest) fails.
        await _submit_job(runtime, farm, tank, user.id, b"not a zip archive")
        (got,) = await failed_rx.wait_for(1, timeout_s=60)
        await runtime.events.drain(60)
    assert got.json()["type"] == "job.failed" and got.json()["payload"]["status"] == "failed"
    assert independent_verify(SECRET, got.body, got.headers["aquaculture-signature"])
    assert completed_rx.requests == []


@pytest.mark.parametrize("aqua_settings", [{"webhooks_allow_private_networks": False}],
                         indirect=True)  # fmt: skip
async def test_webhook_urls_are_checked_and_admin_only(client: httpx.AsyncClient) -> None:
    admin = await register_and_login(client)
    farm, _, _ = await make_farm(client, admin.headers)
    url = f"/api/v1/farms/{farm}/webhooks"
    for bad in ("http://127.0.0.1:9/x", "http://169.254.169.254/latest", "ftp://example.com/",
                "not a url"):  # fmt: skip
        resp = await client.post(url, headers=admin.headers, json={"url": bad, "secret": SECRET})
        assert resp.status_code == 422, (bad, resp.text)
        assert resp.headers["content-type"].startswith("application/problem+json")
    short = await client.post(url, headers=admin.headers,
                              json={"url": "https://example.com/h", "secret": "short"})  # fmt: skip
    assert short.status_code == 422
    unknown = await client.post(url, headers=admin.headers, json={
        "url": "https://example.com/h", "secret": SECRET, "events": ["job.exploded"]})  # fmt: skip
    assert unknown.status_code == 422
    assert (await client.get(url, headers=admin.headers)).json() == []
    # A viewer of the farm may not see or add webhooks; a stranger does not see the farm.
    viewer = await register_and_login(client)
    added = await client.post(f"/api/v1/farms/{farm}/members", headers=admin.headers,
                              json={"username": viewer.username, "role": "viewer"})  # fmt: skip
    assert added.status_code == 201, added.text
    assert (await client.get(url, headers=viewer.headers)).status_code == 403
    stranger = await register_and_login(client)
    assert (await client.get(url, headers=stranger.headers)).status_code == 404
