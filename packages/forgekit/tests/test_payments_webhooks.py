"""Webhook verification (valid, bad signature, stale, malformed, several v1 values; a property
test) and the fake provider's signed deliveries to a real loopback receiver."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import uuid

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from forgekit.payments import InvalidSignature, ProviderEvent, verify_event
from forgekit.payments.webhooks import SIGNATURE_HEADER
from forgekit.testing.loopback import HttpReceiver, serve_asgi
from forgekit.testing.payments import fake_provider

SECRET = "whsec_test"


def sign(payload: bytes, secret: str = SECRET, t: int | None = None) -> str:
    """The header, computed here from the published scheme (not with the kit's signer)."""
    t = int(time.time()) if t is None else t
    mac = hmac.new(secret.encode(), f"{t}.".encode() + payload, hashlib.sha256).hexdigest()
    return f"t={t},v1={mac}"


def event_payload(type_: str = "payment_intent.succeeded") -> bytes:
    return json.dumps(
        {
            "id": f"evt_{uuid.uuid4().hex}",
            "object": "event",
            "type": type_,
            "created": int(time.time()),
            "data": {"object": {"id": "pi_1", "amount": 100}},
        }
    ).encode()


def test_valid_signature_gives_the_event() -> None:
    payload = event_payload()
    event = verify_event(payload, sign(payload), SECRET)
    assert event.type == "payment_intent.succeeded"
    assert event.data_object == {"id": "pi_1", "amount": 100}


def test_wrong_secret_or_altered_body_is_refused() -> None:
    payload = event_payload()
    with pytest.raises(InvalidSignature):
        verify_event(payload, sign(payload, "whsec_other"), SECRET)
    with pytest.raises(InvalidSignature):
        verify_event(payload.replace(b"100", b"999"), sign(payload), SECRET)
    with pytest.raises(InvalidSignature):
        verify_event(payload, sign(payload), "")


def test_timestamp_tolerance_is_300_seconds_either_way() -> None:
    payload = event_payload()
    t = 1_700_000_000
    header = sign(payload, t=t)
    assert verify_event(payload, header, SECRET, now=t + 300).id
    assert verify_event(payload, header, SECRET, now=t - 300).id
    for now in (t + 301, t - 301):
        with pytest.raises(InvalidSignature):
            verify_event(payload, header, SECRET, now=now)
    with pytest.raises(InvalidSignature):
        verify_event(payload, header, SECRET, tolerance_s=10, now=t + 11)


@pytest.mark.parametrize(
    "header",
    [
        "",
        "garbage",
        "v1=abc",
        "t=,v1=abc",
        "t=12a,v1=abc",
        "t=-5,v1=abc",
        "t=1700000000",
        "t=1700000000,t=1700000000,v1=abc",
        "t=1700000000;v1=abc",
    ],
)
def test_malformed_headers_are_refused(header: str) -> None:
    with pytest.raises(InvalidSignature):
        verify_event(event_payload(), header, SECRET, now=1_700_000_000)


def test_any_of_several_v1_values_may_match() -> None:
    payload = event_payload()
    good = sign(payload)
    t, v1 = good.split(",")
    stale_secret_sig = sign(payload, "whsec_old").split(",")[1]
    assert verify_event(payload, f"{t},{stale_secret_sig},{v1}", SECRET).id
    assert verify_event(payload, f"{t},{v1},v0=ignored", SECRET).id
    with pytest.raises(InvalidSignature):
        verify_event(payload, f"{t},{stale_secret_sig},v1=00", SECRET)


def test_signed_body_that_is_not_an_event_is_refused() -> None:
    for body in (b"not json", b"[1, 2]", b'{"id": "evt_1"}'):
        with pytest.raises(InvalidSignature):
            verify_event(body, sign(body), SECRET)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=10,
)


@settings(max_examples=150, deadline=None)
@given(
    secret=st.text(min_size=1, max_size=40),
    event_id=st.text(min_size=1, max_size=30),
    type_=st.text(min_size=1, max_size=30),
    created=st.integers(min_value=0, max_value=2**40),
    obj=st.dictionaries(st.text(max_size=10), json_values, max_size=5),
    skew=st.integers(min_value=-300, max_value=300),
    flip=st.integers(min_value=0),
)
def test_property_signed_events_verify_and_any_change_is_caught(
    secret: str,
    event_id: str,
    type_: str,
    created: int,
    obj: dict[str, object],
    skew: int,
    flip: int,
) -> None:
    payload = json.dumps(
        {"id": event_id, "type": type_, "created": created, "data": {"object": obj}}
    ).encode()
    t = 1_700_000_000
    header = sign(payload, secret, t)
    assert verify_event(payload, header, secret, now=t + skew) == ProviderEvent(
        id=event_id, type=type_, created=created, data_object=obj
    )
    index = flip % len(payload)
    tampered = payload[:index] + bytes([payload[index] ^ 0x01]) + payload[index + 1 :]
    with pytest.raises(InvalidSignature):
        verify_event(tampered, header, secret, now=t)
    with pytest.raises(InvalidSignature):
        verify_event(payload, header, secret + "x", now=t)


@settings(max_examples=200, deadline=None)
@given(header=st.text(max_size=200), payload=st.binary(max_size=200))
def test_property_arbitrary_headers_only_raise_invalid_signature(
    header: str, payload: bytes
) -> None:
    with pytest.raises(InvalidSignature):
        verify_event(payload, header, SECRET)


async def test_fake_sends_signed_events_to_a_receiver() -> None:
    receiver = HttpReceiver(script=[500])  # the first delivery fails and must be retried
    async with serve_asgi(receiver) as url:
        with fake_provider(webhook_secret=SECRET) as fake:
            await fake.control.register_webhook(f"{url}/hooks")
            async with fake.adapter() as stripe:
                intent = await stripe.create_payment_intent(
                    1500, "usd", payment_method="pm_card_visa", idempotency_key=uuid.uuid4().hex
                )
                events = await _wait_for_types(receiver, {"payment_intent.succeeded"})
                while len({r.body for r in receiver.requests}) == len(receiver.requests):
                    await receiver.wait_for(len(receiver.requests) + 1)  # the refused one's retry
    succeeded = [e for e in events if e.type == "payment_intent.succeeded"]
    assert succeeded[0].data_object["id"] == intent.id
    assert succeeded[0].data_object["status"] == "succeeded"
    assert receiver.requests[0].path == "/hooks"
    assert all(SIGNATURE_HEADER.lower() in r.headers for r in receiver.requests)
    first, *others = receiver.requests
    retry = next(r for r in others if r.body == first.body)
    assert verify_event(retry.body, retry.headers[SIGNATURE_HEADER.lower()], SECRET).id == (
        verify_event(first.body, first.headers[SIGNATURE_HEADER.lower()], SECRET).id
    )


async def _wait_for_types(
    receiver: HttpReceiver, types: set[str], timeout_s: float = 60.0
) -> list[ProviderEvent]:
    """Verified events received so far, once every type in ``types`` arrived successfully."""
    deadline = time.monotonic() + timeout_s
    count = 1
    while True:
        requests = await receiver.wait_for(count, max(deadline - time.monotonic(), 0.1))
        events = [
            verify_event(r.body, r.headers[SIGNATURE_HEADER.lower()], SECRET) for r in requests
        ]
        if types <= {e.type for e in events}:
            return events
        count = len(requests) + 1


async def test_fake_can_duplicate_and_reorder_deliveries() -> None:
    receiver = HttpReceiver()
    async with serve_asgi(receiver) as url:
        with fake_provider(webhook_secret=SECRET, webhook_urls=(url,)) as fake:
            await fake.control.webhooks(hold=True, reverse=True, duplicate=True)
            async with fake.adapter() as stripe:
                customer = await stripe.create_customer("h@example.com", idempotency_key="c1")
                await stripe.create_refund(
                    (
                        await stripe.create_payment_intent(
                            400, "usd", customer.id, "pm_card_visa", idempotency_key="p1"
                        )
                    ).id,
                    idempotency_key="r1",
                )
            emitted = await fake.control.events()
            assert await fake.control.flush_webhooks() == len(emitted)
            requests = await receiver.wait_for(2 * len(emitted))
    received = [verify_event(r.body, r.headers[SIGNATURE_HEADER.lower()], SECRET) for r in requests]
    ids = [e.id for e in received]
    assert sorted(ids) == sorted([e["id"] for e in emitted] * 2)
    first_seen = list(dict.fromkeys(ids))
    assert first_seen == [e["id"] for e in reversed(emitted)]
    assert {"charge.refunded", "refund.created"} <= {e.type for e in received}
