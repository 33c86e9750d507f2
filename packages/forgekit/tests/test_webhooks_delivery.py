"""A webhook delivery end to end through the kit alone, on both backends: a product's own
tables declared with the kit's mixins, the delivery loop sending to a real loopback HTTP
receiver that fails twice, signatures checked by an independent implementation, every attempt
recorded; and the outbound client's limits (bounded response, no redirects)."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import MetaData, select
from sqlalchemy.orm import DeclarativeBase

from forgekit.db.base import NAMING_CONVENTION, utcnow
from forgekit.events import Event
from forgekit.runtime import Runtime
from forgekit.testing.loopback import HttpReceiver, independent_verify, serve_asgi
from forgekit.webhooks.channels import WebhookChannel, webhook_body
from forgekit.webhooks.delivery import DeliveryLoop, RetryPolicy
from forgekit.webhooks.models import (
    DeliveryAttemptMixin,
    DeliveryMixin,
    DeliveryStatus,
    WebhookEndpointMixin,
    delivery_table_args,
)
from forgekit.webhooks.outbound import OutboundHttp
from forgekit.webhooks.repository import DeliveryLogRepository
from forgekit.webhooks.secretbox import SecretBox
from forgekit.webhooks.signing import WebhookHeaders

SECRET = "whsec_0123456789abcdef"
HEADERS = WebhookHeaders.for_product("Sample")


class SampleBase(DeclarativeBase):
    """A metadata of its own: these tables are the test's, not the kit's migrated schema."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Hook(WebhookEndpointMixin, SampleBase):
    __tablename__ = "sample_hooks"


class HookDelivery(DeliveryMixin, SampleBase):
    __tablename__ = "sample_deliveries"
    webhook_table = "sample_hooks"
    __table_args__ = delivery_table_args("sample_deliveries")


class HookAttempt(DeliveryAttemptMixin, SampleBase):
    __tablename__ = "sample_attempts"
    delivery_table = "sample_deliveries"


class HookLog(DeliveryLogRepository[HookDelivery, HookAttempt]):
    delivery_model = HookDelivery
    attempt_model = HookAttempt
    endpoint_model = Hook


@pytest.fixture
async def sample_tables(runtime: Runtime) -> None:
    async with runtime.db.engine.begin() as conn:
        await conn.run_sync(SampleBase.metadata.create_all)


@pytest.fixture
async def delivery_loop(
    runtime: Runtime, sample_tables: None
) -> AsyncIterator[DeliveryLoop[HookDelivery, HookAttempt]]:
    box = SecretBox(runtime.settings.secret_key.get_secret_value())
    # The receiver shares the test's event loop: on a busy machine an answer can take seconds,
    # and a timeout would be an unplanned failed attempt.
    http = OutboundHttp(timeout_s=30.0, max_response_bytes=65536, allow_private=True,
                        user_agent=HEADERS.user_agent)
    loop = DeliveryLoop(
        runtime.db, HookLog, {"webhook": WebhookChannel(http, box, HEADERS)},
        RetryPolicy(base_s=0.4, max_s=5.0, max_age_s=60.0),
        consumer_group=None, poll_interval_s=0.05, concurrency=4, lease_s=30.0,
    )
    await loop.start()
    try:
        yield loop
    finally:
        await loop.stop()


async def test_signed_delivery_retried_until_the_receiver_recovers(
    runtime: Runtime, delivery_loop: DeliveryLoop[HookDelivery, HookAttempt]
) -> None:
    box = SecretBox(runtime.settings.secret_key.get_secret_value())
    event = Event(type="order.paid", payload={"order": 7, "note": "café"})
    receiver = HttpReceiver(script=[500, 503])
    async with serve_asgi(receiver) as url:
        async with runtime.db.transaction() as session:
            hook = Hook(id=uuid.uuid4(), url=f"{url}/in?shop=1", events=[event.type],
                        secret_encrypted=box.encrypt(SECRET), active=True)
            session.add(hook)
            await session.flush()
            log = HookLog(session)
            values = {
                "id": uuid.uuid4(), "dedupe_key": f"{event.id}:webhook:{hook.id}",
                "event_id": event.id, "event_type": event.type, "channel": "webhook",
                "recipient": str(hook.id), "webhook_id": hook.id, "body": webhook_body(event),
                "status": DeliveryStatus.PENDING.value, "attempt_count": 0,
                "next_attempt_at": utcnow(), "created_at": utcnow(),
            }
            assert await log.insert_if_new(values)
            # The same (event, channel, recipient) again: the log is the idempotency record.
            assert not await log.insert_if_new({**values, "id": uuid.uuid4()})
            delivery_loop.wake_after_commit(session)
        requests = await receiver.wait_for(3, timeout_s=60)
        deadline = time.monotonic() + 60
        while True:
            async with runtime.db.session() as session:
                delivery = (await session.scalars(select(HookDelivery))).one()
                attempts = (await HookLog(session).attempts_of([delivery.id]))[delivery.id]
            if delivery.status != DeliveryStatus.PENDING.value:
                break
            assert time.monotonic() < deadline, delivery.status
            await asyncio.sleep(0.05)

    assert delivery.status == DeliveryStatus.SUCCEEDED.value and delivery.attempt_count == 3
    assert delivery.completed_at is not None and delivery.last_error is None
    assert [a.number for a in attempts] == [1, 2, 3]
    assert [a.status_code for a in attempts] == [500, 503, 200]
    assert [a.error for a in attempts] == ["HTTP 500", "HTTP 503", None]
    assert all(a.latency_ms >= 0 for a in attempts)
    for request in requests:
        assert request.method == "POST" and request.path == "/in"
        assert independent_verify(SECRET, request.body, request.headers["sample-signature"])
        assert not independent_verify("another-secret-0000", request.body,
                                      request.headers["sample-signature"])
        assert request.headers["sample-delivery"] == str(delivery.id)
        assert request.headers["sample-event"] == "order.paid"
        assert request.headers["user-agent"] == "Sample-Webhooks/1"
        assert request.json() == {**webhook_body(event), "payload": {"order": 7, "note": "café"}}
    # Backoff with equal jitter: the n-th wait is at least half of base * 2**(n-1).
    assert requests[1].at - requests[0].at >= 0.2 * 0.95
    assert requests[2].at - requests[1].at >= 0.4 * 0.95


async def test_outbound_reads_a_bounded_response_and_never_follows_redirects() -> None:
    async def endless(scope, receive, send):
        if scope["type"] != "http":
            return
        await receive()
        if scope["path"] == "/redirect":
            await send({"type": "http.response.start", "status": 302,
                        "headers": [(b"location", b"http://169.254.169.254/")]})
            await send({"type": "http.response.body", "body": b""})
            return
        gone = asyncio.Event()

        async def watch() -> None:
            while (await receive())["type"] != "http.disconnect":
                pass
            gone.set()

        watcher = asyncio.create_task(watch())
        await send({"type": "http.response.start", "status": 200, "headers": []})
        while not gone.is_set():  # no end: only a client that stops reading gets an answer
            await send({"type": "http.response.body", "body": b"x" * 65536, "more_body": True})
            await asyncio.sleep(0)  # the server shares the test's event loop
        watcher.cancel()
        await send({"type": "http.response.body", "body": b""})

    # The behaviour, not a stopwatch: a client reading the whole (endless) body could only end
    # on its timeout, which is a failed result, so ``ok`` proves the read was bounded.
    http = OutboundHttp(timeout_s=30.0, max_response_bytes=65536, allow_private=True)
    try:
        async with serve_asgi(endless) as url:
            result = await http.post_json(f"{url}/stream", b"{}")
            assert result.ok and result.status_code == 200, result
            assert result.response_excerpt is not None and len(result.response_excerpt) <= 512
            redirected = await http.post_json(f"{url}/redirect", b"{}")
            assert (redirected.ok, redirected.retryable, redirected.status_code) == (False, False, 302)
    finally:
        await http.aclose()
