"""Asynchronous inference jobs: 202 + Location, the worker runs them through the outbox,
results with timestamps, idempotent submission, cancel, retention, a signed completion webhook,
and one usage event per finished job."""

from __future__ import annotations

import asyncio
import json
import time
from datetime import timedelta

import httpx
import pytest
from modelhub.inference.service import inference
from modelhub.jobs.models import InferenceJob
from modelhub.jobs.tasks import JobJanitor
from modelhub.testing import affine_onnx, host_model
from modelhub.usage.models import UsageEvent
from sqlalchemy import func, select, update

from forgekit.db.base import utcnow
from forgekit.identity.testing import register_and_login
from forgekit.runtime import Runtime
from forgekit.testing.loopback import HttpReceiver, serve_asgi
from forgekit.webhooks.signing import verify_signature

ASYNC = {"Prefer": "respond-async"}
BODY = {"inputs": {"x": [[0.0, 1.0, 2.0, 3.0]]}}


async def _until(client: httpx.AsyncClient, url: str, headers: dict[str, str], status: str) -> dict:
    deadline = time.monotonic() + 60
    while True:
        job = (await client.get(url, headers=headers)).json()
        if job["status"] == status:
            return dict(job)
        assert time.monotonic() < deadline, job
        await asyncio.sleep(0.05)


async def _billed(runtime: Runtime) -> int:
    async with runtime.db.session() as s:
        return int((await s.execute(select(func.count()).select_from(UsageEvent))).scalar_one())


async def test_a_job_runs_on_the_worker_and_calls_back_signed(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    runtime.app_settings.callbacks_allow_private_networks = True  # type: ignore[attr-defined]
    for service in runtime.services:  # the sender's client was built from the settings
        if hasattr(service, "http"):
            service.http.allow_private = True
    hosted = await host_model(client, runtime, affine_onnx())
    consumer = await register_and_login(client)
    receiver = HttpReceiver()
    async with serve_asgi(receiver) as hook:
        headers = {**consumer.headers, **ASYNC, "Idempotency-Key": "job-1"}
        resp = await client.post(hosted.infer_url(), headers=headers,
                                 json={**BODY, "callback_url": f"{hook}/done"})  # fmt: skip
        assert resp.status_code == 202, resp.text
        created = resp.json()
        assert resp.headers["Location"] == f"/api/v1/jobs/{created['id']}"
        assert created["status"] == "queued" and created["callback_secret"].startswith("whsec_")
        job = await _until(client, resp.headers["Location"], consumer.headers, "succeeded")
        assert job["created_at"] <= job["started_at"] <= job["finished_at"] < job["expires_at"]
        sync = await client.post(hosted.infer_url(), json=BODY, headers=consumer.headers)
        assert job["result"]["outputs"] == sync.json()["outputs"]
        # Submitting again under the same key returns the same job, never a second run.
        again = await client.post(hosted.infer_url(), headers=headers, json=BODY)
        assert again.status_code == 202 and again.json()["id"] == created["id"]
        assert again.headers["Idempotent-Replayed"] == "true"
        deadline = time.monotonic() + 60
        while not receiver.requests:
            assert time.monotonic() < deadline, "no completion webhook"
            await asyncio.sleep(0.05)
    call = receiver.requests[0]
    assert verify_signature(
        created["callback_secret"], call.body, call.headers["modelhub-signature"]
    )
    assert not verify_signature("whsec_other", call.body, call.headers["modelhub-signature"])
    sent = json.loads(call.body)
    assert sent["type"] == "inference.job.finished" and sent["job"]["id"] == created["id"]
    assert sent["job"]["status"] == "succeeded"
    assert await _billed(runtime) == 2  # the job and the sync call
    # Someone else's job does not exist for them; a finished job cannot be cancelled.
    stranger = await register_and_login(client)
    assert (await client.get(resp.headers["Location"], headers=stranger.headers)).status_code == 404
    late = await client.post(f"{resp.headers['Location']}/cancel", headers=consumer.headers)
    assert late.status_code == 409 and late.headers["content-type"].startswith(
        "application/problem+json"
    )


async def test_bad_submissions_are_problems_and_expired_jobs_are_gone(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    hosted = await host_model(client, runtime, affine_onnx())
    consumer = await register_and_login(client)
    headers = {**consumer.headers, **ASYNC}
    bad = await client.post(hosted.infer_url(), headers=headers, json={"inputs": {"x": [[1.0]]}})
    assert bad.status_code == 422
    private = await client.post(hosted.infer_url(), headers=headers,
                                json={**BODY, "callback_url": "http://127.0.0.1:9/x"})  # fmt: skip
    assert private.status_code == 422 and "refused" in private.json()["detail"]
    sync_cb = await client.post(hosted.infer_url(), headers=consumer.headers,
                                json={**BODY, "callback_url": "https://example.com/x"})  # fmt: skip
    assert sync_cb.status_code == 422
    assert (
        await client.get("/api/v1/jobs/not-a-uuid", headers=consumer.headers)
    ).status_code == 422
    resp = await client.post(hosted.infer_url(), headers=headers, json=BODY)
    url = resp.headers["Location"]
    await _until(client, url, consumer.headers, "succeeded")
    async with runtime.db.transaction() as s:
        await s.execute(update(InferenceJob).values(expires_at=utcnow() - timedelta(seconds=1)))
    assert (await client.get(url, headers=consumer.headers)).status_code == 404
    janitor = next(s for s in runtime.services if isinstance(s, JobJanitor))
    assert await janitor.sweep() == 1
    async with runtime.db.session() as s:
        assert (await s.execute(select(func.count()).select_from(InferenceJob))).scalar_one() == 0


@pytest.mark.parametrize("backend", ["real"])
async def test_a_running_job_cancelled_is_never_billed(
    client: httpx.AsyncClient, runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    # PostgreSQL only: there the worker's "running" commits at once and a cancel can land
    # while the model runs (SQLite's single writer makes a cancel wait for the job).
    hosted = await host_model(client, runtime, affine_onnx())
    consumer = await register_and_login(client)
    gate, entered = asyncio.Event(), asyncio.Event()
    compute = inference.compute

    async def held(*args, **kwargs):  # type: ignore[no-untyped-def]
        entered.set()
        await gate.wait()
        return await compute(*args, **kwargs)

    monkeypatch.setattr(inference, "compute", held)
    resp = await client.post(hosted.infer_url(), headers={**consumer.headers, **ASYNC}, json=BODY)
    url = resp.headers["Location"]
    await asyncio.wait_for(entered.wait(), 60)
    assert (await client.get(url, headers=consumer.headers)).json()["status"] == "running"
    cancelled = await client.post(f"{url}/cancel", headers=consumer.headers)
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    gate.set()
    await runtime.events.drain()
    job = (await client.get(url, headers=consumer.headers)).json()
    assert job["status"] == "cancelled" and job["result"] is None
    assert await _billed(runtime) == 0
