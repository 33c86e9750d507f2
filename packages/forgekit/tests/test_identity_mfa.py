"""TOTP multi-factor authentication through the API: enrolment, confirmation, the login
challenge, the ±1 step window, replay protection, recovery codes, rate limits, disabling, and
browser (cookie) sign-in. Every test runs on the embedded and the real backend."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pyotp
import pytest
from sqlalchemy import select

from forgekit.events.models import AuditLog
from forgekit.identity.mfa import totp
from forgekit.identity.mfa.models import MfaRecoveryCode, MfaTotp
from forgekit.identity.testing import TestUser, register, register_and_login

PROBLEM = "application/problem+json"


class Clock:
    """The server's TOTP clock, pinned so window edges are exact."""

    def __init__(self) -> None:
        self.now = float(int(time.time()) // 30 * 30)

    def step(self) -> int:
        return int(self.now // 30)

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Iterator[Clock]:
    pinned = Clock()
    monkeypatch.setattr(totp, "clock", lambda: pinned.now)
    yield pinned


def code(secret: str, step: int) -> str:
    """An authenticator's code (pyotp, as a phone app computes it)."""
    return pyotp.TOTP(secret).at(step * 30)


async def enrol(client: httpx.AsyncClient, user: TestUser, clock: Clock) -> dict[str, Any]:
    """Enrol and confirm; returns the secret and recovery codes."""
    started = await client.post("/auth/mfa/totp", headers=user.headers)
    assert started.status_code == 201, started.text
    secret = started.json()["secret"]
    confirmed = await client.post(
        "/auth/mfa/totp/confirm", json={"code": code(secret, clock.step())}, headers=user.headers
    )
    assert confirmed.status_code == 200, confirmed.text
    return {"secret": secret, "recovery_codes": confirmed.json()["recovery_codes"]}


async def enrolled_user(client: httpx.AsyncClient, clock: Clock) -> tuple[TestUser, str, list[str]]:
    """A logged-in user with MFA on: the user, the secret and the recovery codes."""
    user = await register_and_login(client)
    enrolment = await enrol(client, user, clock)
    return user, enrolment["secret"], enrolment["recovery_codes"]


async def challenge(client: httpx.AsyncClient, user: TestUser) -> str:
    resp = await client.post(
        "/auth/login", data={"username": user.username, "password": user.password}
    )
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["mfa_required"] is True and "access_token" not in body
    return str(body["mfa_token"])


async def verify(client: httpx.AsyncClient, user: TestUser, value: str) -> httpx.Response:
    return await client.post(
        "/auth/mfa/verify", json={"mfa_token": await challenge(client, user), "code": value}
    )


async def test_enrolment_stores_the_secret_encrypted_and_codes_hashed(
    client: httpx.AsyncClient, runtime: Any, clock: Clock
) -> None:
    user = await register_and_login(client)
    status = await client.get("/auth/mfa", headers=user.headers)
    assert status.json() == {
        "enabled": False,
        "pending": False,
        "required": False,
        "recovery_codes_remaining": 0,
    }
    started = await client.post("/auth/mfa/totp", headers=user.headers)
    body = started.json()
    assert started.headers["cache-control"] == "no-store"
    uri = body["otpauth_uri"]
    assert uri.startswith("otpauth://totp/") and f"secret={body['secret']}" in uri
    assert pyotp.parse_uri(uri).secret == body["secret"]
    assert body["qr_svg"].startswith("<svg") and "</svg>" in body["qr_svg"]
    assert (await client.get("/auth/mfa", headers=user.headers)).json()["pending"] is True

    wrong = await client.post(
        "/auth/mfa/totp/confirm", json={"code": "000000"}, headers=user.headers
    )
    assert wrong.status_code == 400 and wrong.headers["content-type"].startswith(PROBLEM)
    confirmed = await client.post(
        "/auth/mfa/totp/confirm",
        json={"code": code(body["secret"], clock.step())},
        headers=user.headers,
    )
    codes = confirmed.json()["recovery_codes"]
    assert len(codes) == 10 and len(set(codes)) == 10

    async with runtime.db.transaction() as session:
        factor = (await session.execute(select(MfaTotp))).scalar_one()
        hashes = (await session.execute(select(MfaRecoveryCode.code_hash))).scalars().all()
    assert body["secret"] not in factor.secret_ciphertext and factor.confirmed_at is not None
    assert len(hashes) == 10 and all(h.startswith("$argon2id$") for h in hashes)
    assert not any(c in h for c in codes for h in hashes)
    status = await client.get("/auth/mfa", headers=user.headers)
    assert status.json()["enabled"] is True and status.json()["recovery_codes_remaining"] == 10
    again = await client.post("/auth/mfa/totp", headers=user.headers)
    assert again.status_code == 409


async def test_login_returns_a_challenge_that_a_code_completes(
    client: httpx.AsyncClient, clock: Clock
) -> None:
    user, secret, _ = await enrolled_user(client, clock)
    clock.advance(30)
    token = await challenge(client, user)
    # The challenge is no session: it opens nothing.
    assert (
        await client.get("/auth/me", headers={"Authorization": f"Bearer {token}"})
    ).status_code == 401
    done = await client.post(
        "/auth/mfa/verify", json={"mfa_token": token, "code": code(secret, clock.step())}
    )
    assert done.status_code == 200, done.text
    tokens = done.json()
    me = await client.get("/auth/me", headers={"Authorization": f"Bearer {tokens['access_token']}"})
    assert me.json()["username"] == user.username
    refreshed = await client.post("/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert refreshed.status_code == 200
    forged = await client.post(
        "/auth/mfa/verify", json={"mfa_token": tokens["access_token"], "code": "123456"}
    )
    assert forged.status_code == 401


async def test_window_is_one_step_either_side_and_steps_are_used_once(
    client: httpx.AsyncClient, clock: Clock
) -> None:
    user, secret, _ = await enrolled_user(client, clock)
    clock.advance(300)
    now = clock.step()
    assert (await verify(client, user, code(secret, now - 2))).status_code == 401
    assert (await verify(client, user, code(secret, now + 2))).status_code == 401
    assert (await verify(client, user, code(secret, now - 1))).status_code == 200
    replay = await verify(client, user, code(secret, now - 1))
    assert replay.status_code == 401 and replay.headers["content-type"].startswith(PROBLEM)
    assert (await verify(client, user, code(secret, now))).status_code == 200
    assert (await verify(client, user, code(secret, now + 1))).status_code == 200
    # An earlier step after a later one was used is as good as a replay.
    assert (await verify(client, user, code(secret, now))).status_code == 401


async def test_confirmation_code_cannot_be_replayed_at_login(
    client: httpx.AsyncClient, clock: Clock
) -> None:
    user, secret, _ = await enrolled_user(client, clock)
    assert (await verify(client, user, code(secret, clock.step()))).status_code == 401


async def test_recovery_codes_work_once_each(client: httpx.AsyncClient, clock: Clock) -> None:
    user, _, codes = await enrolled_user(client, clock)
    first = await verify(client, user, codes[0])
    assert first.status_code == 200, first.text
    assert (await verify(client, user, codes[0])).status_code == 401
    typed = codes[1].upper().replace("-", " ")
    assert (await verify(client, user, typed)).status_code == 200
    headers = {"Authorization": f"Bearer {first.json()['access_token']}"}
    assert (await client.get("/auth/mfa", headers=headers)).json()["recovery_codes_remaining"] == 8

    fresh = await client.post("/auth/mfa/recovery-codes", json={"code": codes[2]}, headers=headers)
    assert fresh.status_code == 200 and len(fresh.json()["recovery_codes"]) == 10
    assert (await verify(client, user, codes[3])).status_code == 401
    assert (await verify(client, user, fresh.json()["recovery_codes"][0])).status_code == 200


async def test_wrong_codes_are_rate_limited_per_account(
    client: httpx.AsyncClient, clock: Clock
) -> None:
    user, secret, _ = await enrolled_user(client, clock)
    clock.advance(60)
    token = await challenge(client, user)
    for _ in range(5):
        wrong = await client.post("/auth/mfa/verify", json={"mfa_token": token, "code": "000000"})
        assert wrong.status_code == 401
    locked = await client.post(
        "/auth/mfa/verify", json={"mfa_token": token, "code": code(secret, clock.step())}
    )
    assert locked.status_code == 429, locked.text
    assert int(locked.headers["retry-after"]) > 0
    assert locked.headers["content-type"].startswith(PROBLEM)


async def audited(runtime: Any, user: TestUser, wanted: set[str]) -> set[str]:
    """The audit log's event types about ``user``, once ``wanted`` are all there."""
    deadline = time.monotonic() + 60
    while True:
        async with runtime.db.transaction() as session:
            query = select(AuditLog.event_type).where(AuditLog.actor == str(user.id))
            types = set((await session.execute(query)).scalars().all())
        if wanted <= types or time.monotonic() > deadline:
            return types
        await asyncio.sleep(0.05)  # polling the consumer's table until the events land


async def test_disable_needs_a_valid_code(
    client: httpx.AsyncClient, runtime: Any, clock: Clock
) -> None:
    user, secret, _ = await enrolled_user(client, clock)
    clock.advance(30)
    wrong = await client.post(
        "/auth/mfa/totp/disable", json={"code": "999999"}, headers=user.headers
    )
    assert wrong.status_code == 400
    short = await client.post("/auth/mfa/totp/disable", json={"code": "1"}, headers=user.headers)
    assert short.status_code == 422 and short.headers["content-type"].startswith(PROBLEM)
    off = await client.post(
        "/auth/mfa/totp/disable", json={"code": code(secret, clock.step())}, headers=user.headers
    )
    assert off.status_code == 204, off.text
    plain = await client.post(
        "/auth/login", data={"username": user.username, "password": user.password}
    )
    assert "access_token" in plain.json()
    again = await client.post(
        "/auth/mfa/totp/disable", json={"code": code(secret, clock.step())}, headers=user.headers
    )
    assert again.status_code == 409
    wanted = {"user.mfa_enabled", "user.mfa_disabled"}
    assert wanted <= await audited(runtime, user, wanted)


async def test_mfa_endpoints_need_a_session_not_an_api_key(
    client: httpx.AsyncClient, clock: Clock
) -> None:
    user = await register_and_login(client)
    assert (await client.post("/auth/mfa/totp")).status_code == 401
    key = await client.post(
        "/auth/api-keys", json={"name": "k", "scopes": ["team:read"]}, headers=user.headers
    )
    started = await client.post("/auth/mfa/totp", headers={"X-API-Key": key.json()["key"]})
    assert started.status_code == 403


async def test_browser_sign_in_honours_mfa(
    client: httpx.AsyncClient, forge_settings: Any, clock: Clock
) -> None:
    user, secret, _ = await enrolled_user(client, clock)
    clock.advance(30)
    form = {"username": user.username, "password": user.password}
    first = await client.post("/auth/session", data=form)
    assert first.status_code == 200 and first.json()["mfa_required"] is True
    assert not first.headers.get_list("set-cookie")
    assert (await client.get("/auth/me")).status_code == 401
    cross = await client.post(
        "/auth/session/mfa",
        json={"mfa_token": first.json()["mfa_token"], "code": code(secret, clock.step())},
        headers={"Origin": "https://evil.example"},
    )
    assert cross.status_code == 403
    done = await client.post(
        "/auth/session/mfa",
        json={"mfa_token": first.json()["mfa_token"], "code": code(secret, clock.step())},
    )
    assert done.status_code == 200, done.text
    assert done.json()["username"] == user.username
    assert f"{forge_settings.app_name}_session" in client.cookies
    assert (await client.get("/auth/me")).json()["username"] == user.username


async def test_plain_users_are_unaffected(client: httpx.AsyncClient) -> None:
    user = await register(client)
    resp = await client.post(
        "/auth/login", data={"username": user.username, "password": user.password}
    )
    assert resp.status_code == 200 and "access_token" in resp.json()
