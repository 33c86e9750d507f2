"""Email verification and password reset end to end: service → outbox → consumer → mailer
(the file sink) → the link in the .eml → the API. Single use, expiry, sessions revoked."""

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from forgekit.db.base import utcnow
from forgekit.events.models import OutboxMessage
from forgekit.identity.models import OneTimeToken
from forgekit.identity.security import sha256_hex
from forgekit.identity.testing import (
    FAST_PASSWORD_HASHING,
    link_token,
    login,
    register,
    register_and_login,
    sink_messages,
)


@pytest.fixture
def forge_settings(forge_settings):
    return forge_settings.model_copy(update=FAST_PASSWORD_HASHING)


async def _mails(runtime, to, subject=""):
    """Messages to ``to`` whose subject contains ``subject`` (consumers run concurrently on
    RabbitMQ, so the order of different mails is not guaranteed)."""
    await runtime.events.drain(timeout_s=60)
    return [
        m
        for m in sink_messages(runtime.settings.mail_sink_dir)
        if m["To"] == to and subject in m["Subject"]
    ]


async def test_email_verification_end_to_end(client, runtime):
    user = await login(client, await register(client, "vera"))
    [mail] = await _mails(runtime, user.email, "Confirm your email")
    assert mail.get_content_type() == "multipart/alternative"
    assert mail.get_body(preferencelist=("html",)) is not None
    token = link_token(mail, f"{runtime.settings.public_url}/auth/verify-email")

    # The raw token is nowhere in the outbox, and the database holds only its hash.
    async with runtime.db.session() as session:
        payloads = [
            str(p) for p in (await session.execute(select(OutboxMessage.payload))).scalars()
        ]
        hashes = list((await session.execute(select(OneTimeToken.token_hash))).scalars())
    assert payloads and not any(token in p for p in payloads)
    assert hashes == [sha256_hex(token)]

    # Opening the link shows a page and spends nothing (mail scanners fetch links).
    page = await client.get("/auth/verify-email", params={"token": token})
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert page.headers["referrer-policy"] == "no-referrer"
    assert "script-src 'sha256-" in page.headers["content-security-policy"]
    me = (await client.get("/auth/me", headers=user.headers)).json()
    assert me["is_verified"] is False
    resp = await client.post("/auth/verify-email", json={"token": token})
    assert resp.status_code == 200, resp.text
    assert resp.json()["is_verified"] is True
    assert (await client.get("/auth/me", headers=user.headers)).json()["is_verified"] is True
    # Single use.
    again = await client.post("/auth/verify-email", json={"token": token})
    assert again.status_code == 400
    assert again.headers["content-type"].startswith("application/problem+json")
    # Verified users need no new link.
    assert (
        await client.post("/auth/verify-email/request", headers=user.headers)
    ).status_code == 409
    assert (await client.post("/auth/verify-email", json={"token": "made-up"})).status_code == 400


async def test_verification_resend_and_expiry(client, runtime):
    user = await register_and_login(client)
    assert (await client.post("/auth/verify-email/request")).status_code == 401
    resp = await client.post("/auth/verify-email/request", headers=user.headers)
    assert resp.status_code == 202
    mails = await _mails(runtime, user.email, "Confirm your email")
    assert len(mails) == 2
    first, second = (link_token(m, "/auth/verify-email") for m in mails)
    assert first != second

    async with runtime.db.transaction() as session:
        await session.execute(
            update(OneTimeToken)
            .where(OneTimeToken.token_hash == sha256_hex(second))
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )
    assert (await client.post("/auth/verify-email", json={"token": second})).status_code == 400
    # Using one link spends the others.
    assert (await client.post("/auth/verify-email", json={"token": first})).status_code == 200
    async with runtime.db.session() as session:
        unused = (
            await session.execute(select(OneTimeToken).where(OneTimeToken.used_at.is_(None)))
        ).all()
    assert unused == []


async def test_password_reset_end_to_end(client, runtime):
    user = await register_and_login(client, "resetme")
    old_refresh, old_access = user.refresh_token, user.access_token

    resp = await client.post("/auth/password-reset/request", json={"email": user.email.upper()})
    assert resp.status_code == 202
    unknown = await client.post(
        "/auth/password-reset/request", json={"email": "nobody@example.com"}
    )
    assert unknown.status_code == 202 and unknown.json() == resp.json()

    [mail] = await _mails(runtime, user.email, "Reset your")
    token = link_token(mail, f"{runtime.settings.public_url}/auth/password-reset")
    assert not [
        m for m in sink_messages(runtime.settings.mail_sink_dir) if m["To"] == "nobody@example.com"
    ]

    page = await client.get("/auth/password-reset", params={"token": token})
    assert page.status_code == 200 and "new-password" in page.text
    short = await client.post(
        "/auth/password-reset", json={"token": token, "new_password": "short"}
    )
    assert short.status_code == 422
    done = await client.post(
        "/auth/password-reset", json={"token": token, "new_password": "a brand new password"}
    )
    assert done.status_code == 204, done.text

    # Every session of the account is over; the old password is dead, the new one works.
    assert (
        await client.post("/auth/refresh", json={"refresh_token": old_refresh})
    ).status_code == 401
    assert (
        await client.get("/auth/me", headers={"Authorization": f"Bearer {old_access}"})
    ).status_code == 401
    wrong = await client.post(
        "/auth/login", data={"username": user.username, "password": user.password}
    )
    assert wrong.status_code == 401
    user.password = "a brand new password"
    await login(client, user)
    me = (await client.get("/auth/me", headers=user.headers)).json()
    assert me["is_verified"] is True  # the reset link proved the mailbox

    # Single use.
    again = await client.post(
        "/auth/password-reset", json={"token": token, "new_password": "yet another password"}
    )
    assert again.status_code == 400


async def test_password_reset_token_expires(client, runtime):
    user = await register(client)
    await client.post("/auth/password-reset/request", json={"email": user.email})
    [mail] = await _mails(runtime, user.email, "Reset your")
    token = link_token(mail, "/auth/password-reset")
    async with runtime.db.transaction() as session:
        await session.execute(
            update(OneTimeToken)
            .where(OneTimeToken.token_hash == sha256_hex(token))
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )
    resp = await client.post(
        "/auth/password-reset", json={"token": token, "new_password": "new password 1"}
    )
    assert resp.status_code == 400
    await login(client, user)  # the old password still works
