"""Failed-login limiting: per account (failures, reset by success) and per client address."""

import pytest

from forgekit.identity.testing import FAST_PASSWORD_HASHING, register


@pytest.fixture
def forge_settings(forge_settings):
    return forge_settings.model_copy(
        update={
            **FAST_PASSWORD_HASHING,
            "login_failures_per_account": "3/15minute",
            # Per hour: on a slow machine the nine attempts must still share one window.
            "login_attempts_per_ip": "8/hour",
        }
    )


async def _login(client, username, password):
    return await client.post("/auth/login", data={"username": username, "password": password})


def _assert_429(resp):
    assert resp.status_code == 429, resp.text
    assert resp.headers["content-type"].startswith("application/problem+json")
    assert int(resp.headers["retry-after"]) >= 1
    for name in ("ratelimit-limit", "ratelimit-remaining", "ratelimit-reset"):
        assert name in resp.headers, name


async def test_account_locks_after_failures_even_for_the_right_password(client):
    user = await register(client, "target", email="target@example.com")
    other = await register(client, "bystander")
    for _ in range(3):
        assert (await _login(client, "target", "wrong password")).status_code == 401
    locked = await _login(client, "target", user.password)
    _assert_429(locked)
    assert locked.headers["ratelimit-limit"] == "3"
    # Username and email are the same account.
    _assert_429(await _login(client, "TARGET@example.com", user.password))
    # Other accounts are not affected.
    assert (await _login(client, other.username, other.password)).status_code == 200


async def test_success_resets_the_account_counter(client):
    user = await register(client, "normal")
    # Two rounds of two typos and a success: four failures in all, above the limit of 3,
    # yet never locked, because each success starts the count again.
    for _round in range(2):
        assert (await _login(client, "normal", "typo")).status_code == 401
        assert (await _login(client, "normal", "typo")).status_code == 401
        assert (await _login(client, "normal", user.password)).status_code == 200


async def test_unknown_accounts_are_limited_alike(client):
    for _ in range(3):
        assert (await _login(client, "ghost", "guess")).status_code == 401
    _assert_429(await _login(client, "ghost", "guess"))


async def test_attempts_per_address(client):
    for i in range(8):
        assert (await _login(client, f"spray{i}", "guess")).status_code == 401
    resp = await _login(client, "spray-next", "guess")
    _assert_429(resp)
    assert resp.headers["ratelimit-limit"] == "8"
