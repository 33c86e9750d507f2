"""Project webhooks end to end, on both backends: the API, signed deliveries to a real
loopback HTTP receiver (verified by an independent implementation), retries with backoff,
no retry on 4xx, redelivery, maximum age, timeouts, SSRF refusal and idempotency. (The
outbound client's own limits are tested in the kit: forgekit/tests/test_webhooks_delivery.py.)"""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from forgekit.identity.testing import create_api_key, register_and_login
from forgekit.runtime import Runtime
from forgekit.testing.loopback import HttpReceiver, independent_verify, serve_asgi
from forgekit.webhooks.delivery import RetryPolicy
from pyforge.app import create_app
from pyforge.notify.context import notify_context
from pyforge.notify.models import Delivery, Webhook
from pyforge.notify.tasks import WEBHOOKS_CONSUMER
from pyforge.notify.testing import make_project
from pyforge.settings import PyForgeSettings

SECRET = "whsec_0123456789abcdef"
BASE_SETTINGS: dict[str, Any] = {
    "webhooks_allow_private_networks": True,
    "notify_retry_base_s": 0.4,
    "notify_retry_max_s": 5.0,
    "notify_delivery_poll_s": 0.05,
    # Receivers share the test's event loop: on a busy machine an answer can take seconds, and
    # a timeout would be an unplanned failed attempt. The timeout test sets its own 0.3 s.
    "notify_http_timeout_s": 30.0,
}


@pytest.fixture
def notify_settings(request: pytest.FixtureRequest) -> PyForgeSettings:
    return PyForgeSettings(_env_file=None, **{**BASE_SETTINGS, **getattr(request, "param", {})})


@pytest.fixture
def app_factory(notify_settings: PyForgeSettings):
    return lambda settings: create_app(settings, notify_settings)


async def owner_and_project(client: httpx.AsyncClient, runtime: Runtime):
    user = await register_and_login(client)
    async with runtime.db.session() as session:
        project = await make_project(session, user.id, name="shop")
    return user, project


async def add_webhook(client, user, project, url: str, events=("analysis.completed",)) -> dict:
    resp = await client.post(
        f"/api/v1/projects/{project.id}/webhooks",
        json={"url": url, "events": list(events), "secret": SECRET},
        headers=user.headers,
    )
    assert resp.status_code == 201, resp.text
    return resp.json()


async def wait_deliveries(client, user, project, hook_id, *, count=1, timeout=60.0,
                          done=True) -> list[dict]:
    deadline = time.monotonic() + timeout
    while True:
        resp = await client.get(
            f"/api/v1/projects/{project.id}/webhooks/{hook_id}/deliveries", headers=user.headers
        )
        assert resp.status_code == 200, resp.text
        rows = resp.json()
        if len(rows) >= count and (not done or all(r["status"] != "pending" for r in rows)):
            return rows
        assert time.monotonic() < deadline, rows
        await asyncio.sleep(0.05)


def completed_payload(project_id: uuid.UUID) -> dict[str, Any]:
    return {
        "project_id": str(project_id), "analysis_id": str(uuid.uuid4()), "status": "succeeded",
        "duration_s": 1.5,
        "summary": {"files": 3, "functions": 9,
                    "findings": {"blocker": 0, "critical": 1, "major": 0, "minor": 2, "info": 0}},
        "quality_gate": {"status": "passed", "conditions": []},
        "top_findings": [], "new_findings": 1, "fixed_findings": 0,
    }


async def test_webhook_api_never_echoes_the_secret_and_checks_access(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    owner, project = await owner_and_project(client, runtime)
    base = f"/api/v1/projects/{project.id}/webhooks"
    body = {"url": "https://hooks.example.com/pyforge", "events": ["analysis.failed"],
            "secret": SECRET}

    assert (await client.post(base, json=body)).status_code == 401
    stranger = await register_and_login(client)
    assert (await client.post(base, json=body, headers=stranger.headers)).status_code == 404
    reader_key = await create_api_key(client, owner, ["project:read"])
    resp = await client.post(base, json=body, headers={"X-API-Key": reader_key["key"]})
    assert resp.status_code == 403

    resp = await client.post(base, json=body, headers=owner.headers)
    assert resp.status_code == 201, resp.text
    created = resp.json()
    assert uuid.UUID(created["id"]) and created["events"] == ["analysis.failed"]
    assert SECRET not in resp.text and "secret" not in created
    listed = await client.get(base, headers=owner.headers)
    assert listed.status_code == 200 and SECRET not in listed.text
    assert [w["id"] for w in listed.json()] == [created["id"]]
    async with runtime.db.session() as session:
        stored = await session.get(Webhook, uuid.UUID(created["id"]))
        assert stored is not None and SECRET not in stored.secret_encrypted

    bad = [
        {**body, "events": ["analysis.exploded"]},
        {**body, "secret": "short"},
        {**body, "url": "ftp://example.com/x"},
        {k: v for k, v in body.items() if k != "secret"},
    ]
    for payload in bad:
        resp = await client.post(base, json=payload, headers=owner.headers)
        assert resp.status_code == 422, (payload, resp.text)
        assert resp.headers["content-type"].startswith("application/problem+json")

    assert (await client.delete(f"{base}/{created['id']}", headers=owner.headers)).status_code == 204
    assert (await client.get(f"{base}/{created['id']}", headers=owner.headers)).status_code == 404
    assert (await client.delete(f"{base}/{created['id']}", headers=owner.headers)).status_code == 404


async def test_signed_delivery_verified_independently_and_filtered_by_event(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    receiver = HttpReceiver()
    async with serve_asgi(receiver) as url:
        owner, project = await owner_and_project(client, runtime)
        hook = await add_webhook(client, owner, project, f"{url}/hooks/pyforge?team=a")
        # Not subscribed: never delivered.
        await runtime.events.emit("analysis.progress",
                                  {"project_id": str(project.id), "files_done": 1})
        event = await runtime.events.emit("analysis.completed", completed_payload(project.id))
        [request] = await receiver.wait_for(1)
        rows = await wait_deliveries(client, owner, project, hook["id"])

    assert request.method == "POST" and request.path == "/hooks/pyforge"
    assert request.headers["content-type"] == "application/json"
    assert request.headers["host"] == url.removeprefix("http://")
    assert independent_verify(SECRET, request.body, request.headers["pyforge-signature"])
    assert not independent_verify("wrong-secret-000000", request.body,
                                  request.headers["pyforge-signature"])
    envelope = request.json()
    assert envelope["id"] == str(event.id) and envelope["type"] == "analysis.completed"
    assert envelope["payload"]["project_id"] == str(project.id)
    assert request.headers["pyforge-event"] == "analysis.completed"
    assert len(rows) == 1 and rows[0]["status"] == "succeeded"
    assert request.headers["pyforge-delivery"] == rows[0]["id"]
    [attempt] = rows[0]["attempts"]
    assert attempt["status_code"] == 200 and attempt["latency_ms"] >= 0 and attempt["at"]
    await runtime.events.drain()
    assert len(receiver.requests) == 1


async def test_retries_with_backoff_until_the_receiver_recovers(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    receiver = HttpReceiver(script=[500, 503])
    async with serve_asgi(receiver) as url:
        owner, project = await owner_and_project(client, runtime)
        hook = await add_webhook(client, owner, project, url)
        await runtime.events.emit("analysis.completed", completed_payload(project.id))
        requests = await receiver.wait_for(3, timeout_s=60)
        [row] = await wait_deliveries(client, owner, project, hook["id"])

    assert [a["status_code"] for a in row["attempts"]] == [500, 503, 200]
    assert [a["number"] for a in row["attempts"]] == [1, 2, 3]
    assert row["status"] == "succeeded" and row["attempt_count"] == 3
    assert row["attempts"][0]["error"] == "HTTP 500" and row["attempts"][2]["error"] is None
    # One delivery, three attempts: same delivery id, each freshly and validly signed.
    assert {r.headers["pyforge-delivery"] for r in requests} == {row["id"]}
    assert all(independent_verify(SECRET, r.body, r.headers["pyforge-signature"])
               for r in requests)
    # Backoff with equal jitter: the n-th wait is at least half of base * 2**(n-1).
    gap1, gap2 = requests[1].at - requests[0].at, requests[2].at - requests[1].at
    assert gap1 >= 0.2 * 0.95, gap1
    assert gap2 >= 0.4 * 0.95, gap2


async def test_4xx_fails_at_once_and_redeliver_sends_a_new_delivery(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    receiver = HttpReceiver(script=[404])
    async with serve_asgi(receiver) as url:
        owner, project = await owner_and_project(client, runtime)
        hook = await add_webhook(client, owner, project, url)
        await runtime.events.emit("analysis.completed", completed_payload(project.id))
        [first] = await wait_deliveries(client, owner, project, hook["id"])
        assert first["status"] == "failed" and first["last_error"] == "HTTP 404"
        assert [a["status_code"] for a in first["attempts"]] == [404]
        await asyncio.sleep(1.0)  # longer than the first backoff: still no retry
        assert len(receiver.requests) == 1

        base = f"/api/v1/projects/{project.id}/webhooks/{hook['id']}/deliveries"
        resp = await client.post(f"{base}/{first['id']}/redeliver", headers=owner.headers)
        assert resp.status_code == 202, resp.text
        again = resp.json()
        assert again["redelivery_of"] == first["id"] and again["id"] != first["id"]
        await receiver.wait_for(2)
        rows = await wait_deliveries(client, owner, project, hook["id"], count=2)

    by_id = {r["id"]: r for r in rows}
    assert by_id[again["id"]]["status"] == "succeeded"
    assert by_id[first["id"]]["status"] == "failed"
    assert receiver.requests[1].headers["pyforge-delivery"] == again["id"]
    assert receiver.requests[0].json()["id"] == receiver.requests[1].json()["id"]
    missing = await client.post(f"{base}/{uuid.uuid4()}/redeliver", headers=owner.headers)
    assert missing.status_code == 404


@pytest.mark.parametrize("notify_settings", [{"notify_http_timeout_s": 0.3}], indirect=True)
async def test_timeouts_and_429_are_retried_until_the_maximum_age(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    ctx = notify_context(runtime)
    # The age leaves a busy machine room for a second attempt (0.3 s timeout + <= 0.4 s backoff
    # after a first attempt that may itself start late); 4 s was not always enough.
    ctx.worker.policy = RetryPolicy(base_s=0.2, max_s=0.4, max_age_s=10.0)
    slow = HttpReceiver(delay_s=10.0)  # far past the 0.3 s timeout, however late it fires
    limited = HttpReceiver(default_status=429)
    async with serve_asgi(slow) as slow_url, serve_asgi(limited) as limited_url:
        owner, project = await owner_and_project(client, runtime)
        hook_slow = await add_webhook(client, owner, project, slow_url)
        hook_limited = await add_webhook(client, owner, project, limited_url)
        await runtime.events.emit("analysis.completed", completed_payload(project.id))
        [row_slow] = await wait_deliveries(client, owner, project, hook_slow["id"], timeout=60)
        [row_limited] = await wait_deliveries(client, owner, project, hook_limited["id"],
                                              timeout=60)

    for row in (row_slow, row_limited):
        assert row["status"] == "failed", row
        assert len(row["attempts"]) >= 2
        assert row["last_error"].startswith(("gave up", "expired"))
    assert {a["error"] for a in row_slow["attempts"]} == {"timeout"}
    assert {a["status_code"] for a in row_slow["attempts"]} == {None}
    assert {a["status_code"] for a in row_limited["attempts"]} == {429}


@pytest.mark.parametrize(
    "notify_settings", [{"webhooks_allow_private_networks": False}], indirect=True
)
async def test_private_destinations_are_refused(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    owner, project = await owner_and_project(client, runtime)
    base = f"/api/v1/projects/{project.id}/webhooks"
    for url in ("http://127.0.0.1:9000/x", "http://localhost/x", "http://[::1]/",
                "http://169.254.169.254/latest/meta-data", "http://10.0.0.8/", "http://0.0.0.0/",
                "http://[::ffff:192.168.0.1]/"):
        resp = await client.post(base, json={"url": url, "events": ["analysis.completed"],
                                             "secret": SECRET}, headers=owner.headers)
        assert resp.status_code == 422, (url, resp.text)

    # A webhook whose name resolves to a private address later (DNS change, rebinding) is
    # refused when delivering: nothing reaches the receiver.
    receiver = HttpReceiver()
    async with serve_asgi(receiver) as url:
        ctx = notify_context(runtime)
        async with runtime.db.transaction() as session:
            hook = Webhook(id=uuid.uuid4(), project_id=project.id,
                           url=url.replace("127.0.0.1", "localhost"),
                           events=["analysis.completed"],
                           secret_encrypted=ctx.box.encrypt(SECRET), active=True)
            session.add(hook)
        await runtime.events.emit("analysis.completed", completed_payload(project.id))
        [row] = await wait_deliveries(client, owner, project, hook.id)
    assert receiver.requests == []
    assert row["status"] == "failed"
    [attempt] = row["attempts"]
    assert attempt["status_code"] is None
    assert "refused" in attempt["error"] and "not publicly routable" in attempt["error"]


async def test_duplicate_event_makes_one_delivery(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    receiver = HttpReceiver()
    async with serve_asgi(receiver) as url:
        owner, project = await owner_and_project(client, runtime)
        hook = await add_webhook(client, owner, project, url)
        event = await runtime.events.emit("analysis.completed", completed_payload(project.id))
        await receiver.wait_for(1)
        # The same event handled again, past the bus's own idempotency record (as after a
        # lost acknowledgement with the record purged): no second delivery row, no second call.
        handler = runtime.events.subscriptions[WEBHOOKS_CONSUMER].handler
        for _ in range(2):
            async with runtime.db.transaction() as session:
                await handler(event, session)
        await asyncio.sleep(0.5)
        rows = await wait_deliveries(client, owner, project, hook["id"])
    assert len(rows) == 1 and len(receiver.requests) == 1
    async with runtime.db.session() as session:
        count = await session.scalar(
            select(func.count()).select_from(Delivery).where(Delivery.event_id == event.id)
        )
    assert count == 1

