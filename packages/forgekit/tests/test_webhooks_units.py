"""Webhook building blocks without servers: signatures (checked by an independent
implementation) under a product's header names, the SSRF address policy, status
classification, backoff and secret encryption."""

from __future__ import annotations

import ipaddress
import random
import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from forgekit.testing.loopback import independent_verify
from forgekit.webhooks.delivery import RetryPolicy
from forgekit.webhooks.netguard import (
    BlockedDestinationError,
    check_url,
    is_public_address,
    parse_url,
    resolve,
)
from forgekit.webhooks.outbound import classify
from forgekit.webhooks.secretbox import SecretBox, SecretUnreadableError
from forgekit.webhooks.signing import WebhookHeaders, signature_header, verify_signature


def test_header_names_come_from_the_product() -> None:
    headers = WebhookHeaders.for_product("Shop")
    assert (headers.signature, headers.delivery, headers.event, headers.user_agent) == (
        "Shop-Signature", "Shop-Delivery", "Shop-Event", "Shop-Webhooks/1"
    )


@given(secret=st.text(min_size=1, max_size=64), body=st.binary(max_size=2048))
def test_signature_verifies_with_an_independent_implementation(secret: str, body: bytes) -> None:
    header = signature_header(secret, body)
    assert independent_verify(secret, body, header)
    assert verify_signature(secret, body, header)
    assert not independent_verify(secret + "x", body, header)
    assert not verify_signature(secret, body + b"x", header)


def test_signature_rejects_old_timestamps_and_garbage() -> None:
    body = b'{"a":1}'
    old = signature_header("s" * 20, body, timestamp=int(time.time()) - 3600)
    assert not verify_signature("s" * 20, body, old)
    assert not independent_verify("s" * 20, body, old)
    for header in ("", "t=abc,v1=00", "v1=00", "t=1,t=2,v1=00"):
        assert not verify_signature("s" * 20, body, header)


@pytest.mark.parametrize(
    "address",
    ["127.0.0.1", "10.1.2.3", "172.16.0.1", "192.168.1.1", "169.254.169.254", "100.64.0.1",
     "0.0.0.0", "224.0.0.1", "255.255.255.255", "::1", "fe80::1", "fc00::1", "::",
     "::ffff:127.0.0.1", "::ffff:10.0.0.1", "2002:7f00:1::", "64:ff9b::a9fe:a9fe", "ff02::1"],
)
def test_non_public_addresses_are_refused(address: str) -> None:
    assert not is_public_address(ipaddress.ip_address(address))


@pytest.mark.parametrize("address", ["93.184.216.34", "8.8.8.8", "2606:4700:4700::1111"])
def test_public_addresses_pass(address: str) -> None:
    assert is_public_address(ipaddress.ip_address(address))


@pytest.mark.parametrize(
    "url",
    ["http://127.0.0.1/x", "http://localhost:8080/", "http://[::1]/", "http://169.254.169.254/",
     "http://10.0.0.5/hook", "ftp://example.com/", "http://user:pw@example.com/", "http:///x",
     "file:///etc/passwd"],
)
def test_check_url_refuses_at_save_time(url: str) -> None:
    with pytest.raises(BlockedDestinationError):
        check_url(url, allow_private=False)


def test_allow_private_admits_loopback_but_not_other_schemes() -> None:
    assert check_url("http://127.0.0.1:9/x", allow_private=True).port == 9
    with pytest.raises(BlockedDestinationError):
        check_url("gopher://127.0.0.1/", allow_private=True)


async def test_resolution_is_checked_for_names_too() -> None:
    # "localhost" is resolved through the system resolver like any name: every address counts.
    dest = parse_url("http://localhost:8080/hook")
    with pytest.raises(BlockedDestinationError):
        await resolve(dest, allow_private=False)
    assert (await resolve(dest, allow_private=True)).is_loopback


def test_status_classification() -> None:
    assert classify(200) == (True, False)
    assert classify(204) == (True, False)
    assert classify(500) == (False, True)
    assert classify(503) == (False, True)
    assert classify(429) == (False, True)
    for status in (301, 400, 401, 404, 410, 422):
        assert classify(status) == (False, False)


def test_backoff_grows_exponentially_with_bounded_jitter() -> None:
    policy = RetryPolicy(base_s=10, max_s=300, max_age_s=86400)
    rng = random.Random(7)
    for attempt, cap in [(1, 10), (2, 20), (3, 40), (4, 80), (5, 160), (6, 300), (20, 300)]:
        delays = [policy.delay(attempt, rng) for _ in range(200)]
        assert all(cap / 2 <= d <= cap for d in delays)
        assert max(delays) - min(delays) > cap / 4  # the jitter really spreads


def test_secret_box_round_trip_and_key_separation() -> None:
    box = SecretBox("k" * 40)
    token = box.encrypt("whsec-123")
    assert "whsec" not in token and token != box.encrypt("whsec-123")
    assert box.decrypt(token) == "whsec-123"
    with pytest.raises(SecretUnreadableError):
        SecretBox("other" * 10).decrypt(token)


def test_secret_box_purposes_derive_separate_keys() -> None:
    # A product keeps the label its secrets were stored under; another label cannot read them.
    mine = SecretBox("k" * 40, b"shop.secrets.v1")
    token = mine.encrypt("whsec-123")
    assert SecretBox("k" * 40, b"shop.secrets.v1").decrypt(token) == "whsec-123"
    with pytest.raises(SecretUnreadableError):
        SecretBox("k" * 40).decrypt(token)
