"""Accounts, login, JWT sessions: registration, login, refresh rotation and reuse, logout,
and the token attack matrix. Every test runs on the embedded and the real backend."""

import base64
import json
import uuid
from datetime import timedelta

import httpx
import jwt
import pytest

from forgekit.app import create_app
from forgekit.db.base import utcnow
from forgekit.identity.rbac import register_permissions
from forgekit.identity.security import TokenType, encode_token
from forgekit.identity.testing import (
    FAST_PASSWORD_HASHING,
    login,
    register,
    register_and_login,
)
from forgekit.settings import ForgeSettings

PROBLEM = "application/problem+json"


@pytest.fixture
def forge_settings(forge_settings):
    return forge_settings.model_copy(update=FAST_PASSWORD_HASHING)


def _assert_401(resp):
    assert resp.status_code == 401, resp.text
    assert resp.headers["content-type"].startswith(PROBLEM)
    assert resp.headers["www-authenticate"].lower().startswith("bearer")


# --- registration ---------------------------------------------------------------------------


async def test_register_returns_user_without_hash(client):
    resp = await client.post(
        "/auth/register",
        json={"email": "Alice@Example.COM", "username": "Alice", "password": "s3cret-enough"},
    )
    assert resp.status_code == 201, resp.text
    body = resp.json()
    assert body["email"] == "alice@example.com"
    assert body["username"] == "alice"
    assert body["is_verified"] is False and body["is_active"] is True
    assert body["role"] == "owner"
    text = resp.text.lower()
    assert "hash" not in text and "argon2" not in text and "s3cret" not in text


async def test_register_validation(client):
    short = await client.post(
        "/auth/register", json={"email": "a@example.com", "username": "abc", "password": "short"}
    )
    assert short.status_code == 422
    assert short.headers["content-type"].startswith(PROBLEM)
    assert any(e["field"] == "body.password" for e in short.json()["errors"])

    bad_email = await client.post(
        "/auth/register",
        json={"email": "not-an-email", "username": "abc", "password": "long-enough"},
    )
    assert bad_email.status_code == 422
    assert any(e["field"] == "body.email" for e in bad_email.json()["errors"])

    bad_name = await client.post(
        "/auth/register",
        json={"email": "b@example.com", "username": "a b", "password": "long-enough"},
    )
    assert bad_name.status_code == 422

    await register(client, "bob", email="bob@example.com")
    dup_email = await client.post(
        "/auth/register",
        json={"email": "BOB@example.com", "username": "bobby", "password": "long-enough"},
    )
    assert dup_email.status_code == 409
    assert dup_email.headers["content-type"].startswith(PROBLEM)
    dup_name = await client.post(
        "/auth/register",
        json={"email": "other@example.com", "username": "BOB", "password": "long-enough"},
    )
    assert dup_name.status_code == 409
    assert "hash" not in dup_name.text


# --- login ----------------------------------------------------------------------------------


async def test_login_by_username_or_email_case_insensitive(client):
    user = await register(client, "carol", email="Carol@Example.com")
    for identifier in ("carol", "CAROL", "carol@example.com", "CAROL@EXAMPLE.COM"):
        for path in ("/auth/login", "/auth/token"):
            resp = await client.post(path, data={"username": identifier, "password": user.password})
            assert resp.status_code == 200, (identifier, path, resp.text)
            body = resp.json()
            assert body["token_type"] == "bearer"
            assert body["expires_in"] == 15 * 60
            assert body["access_token"] and body["refresh_token"]
            assert resp.headers["cache-control"] == "no-store"
    me = await client.get("/auth/me", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.status_code == 200
    assert me.json()["username"] == "carol"


async def test_wrong_password_and_unknown_user_look_the_same(client):
    user = await register(client, "dave")
    wrong = await client.post(
        "/auth/login", data={"username": "dave", "password": "wrong-password"}
    )
    unknown = await client.post(
        "/auth/login", data={"username": "nobody", "password": user.password}
    )
    _assert_401(wrong)
    _assert_401(unknown)
    assert wrong.json()["detail"] == unknown.json()["detail"]
    # JSON instead of the OAuth2 form is a validation error, not a server error.
    as_json = await client.post("/auth/login", json={"username": "dave", "password": user.password})
    assert as_json.status_code == 422


# --- the attack matrix -------------------------------------------------------------------------


def _b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def _claims(user_id, token_type="access", **extra):
    now = utcnow()
    claims = {
        "sub": str(user_id),
        "type": token_type,
        "jti": uuid.uuid4().hex,
        "sid": str(uuid.uuid4()),
        "iat": now,
        "exp": now + timedelta(minutes=5),
        "iss": "forgetest",
    }
    claims.update(extra)
    return claims


async def test_token_attack_matrix(client, forge_settings):
    user = await register_and_login(client)
    key = forge_settings.secret_key.get_secret_value()
    good = await client.get("/auth/me", headers=user.headers)
    assert good.status_code == 200

    forged = {
        "alg none": jwt.encode(_claims(user.id), None, algorithm="none"),
        "alg none, empty signature": _b64({"alg": "none", "typ": "JWT"})
        + "."
        + _b64(
            {
                k: (v.timestamp() if hasattr(v, "timestamp") else v)
                for k, v in _claims(user.id).items()
            }
        )
        + ".",
        "wrong key": jwt.encode(
            _claims(user.id), "another-secret-key-of-enough-length!!", algorithm="HS256"
        ),
        "other HMAC algorithm": jwt.encode(_claims(user.id), key, algorithm="HS512"),
        "missing jti": jwt.encode(
            {k: v for k, v in _claims(user.id).items() if k != "jti"}, key, algorithm="HS256"
        ),
        "missing exp": jwt.encode(
            {k: v for k, v in _claims(user.id).items() if k != "exp"}, key, algorithm="HS256"
        ),
        "expired": encode_token(
            forge_settings,
            user_id=user.id,
            token_type=TokenType.ACCESS,
            session_id=uuid.uuid4(),
            ttl_s=60,
            now=utcnow() - timedelta(minutes=10),
        )[0],
        "refresh token as access token": user.refresh_token,
        "unknown type": jwt.encode(_claims(user.id, token_type="id"), key, algorithm="HS256"),
        "sub not a uuid": jwt.encode(_claims("admin"), key, algorithm="HS256"),
        "unknown user": jwt.encode(_claims(uuid.uuid4()), key, algorithm="HS256"),
    }
    # Tampered payload: a genuine token whose payload is rewritten (signature kept).
    header, payload, signature = user.access_token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["sub"] = str(uuid.uuid4())
    forged["tampered payload"] = f"{header}.{_b64(claims)}.{signature}"
    claims["sub"], claims["type"] = str(user.id), "refresh"
    forged["tampered type"] = f"{header}.{_b64(claims)}.{signature}"

    for name, token in forged.items():
        resp = await client.get("/auth/me", headers={"Authorization": f"Bearer {token}"})
        assert resp.status_code == 401, f"{name}: {resp.status_code} {resp.text}"
        _assert_401(resp)

    # An access token is not a refresh token.
    resp = await client.post("/auth/refresh", json={"refresh_token": user.access_token})
    _assert_401(resp)


async def test_missing_or_garbage_credentials(client):
    cases = [
        {},
        {"Authorization": "garbage"},
        {"Authorization": "Bearer"},
        {"Authorization": "Bearer "},
        {"Authorization": "Bearer not.a.jwt"},
        {"Authorization": "Bearer a b"},
        {"Authorization": "Basic dXNlcjpwYXNz"},
        {"X-API-Key": "not-a-key"},
        {"X-API-Key": "fgk_unknown"},
    ]
    for headers in cases:
        resp = await client.get("/auth/me", headers=headers)
        _assert_401(resp)
        assert resp.json()["status"] == 401, headers


# --- refresh and logout ---------------------------------------------------------------------


async def test_refresh_rotates(client):
    user = await register_and_login(client)
    first = user.refresh_token
    resp = await client.post("/auth/refresh", json={"refresh_token": first})
    assert resp.status_code == 200, resp.text
    pair = resp.json()
    assert pair["refresh_token"] != first and pair["access_token"] != user.access_token
    me = await client.get("/auth/me", headers={"Authorization": f"Bearer {pair['access_token']}"})
    assert me.status_code == 200
    # The new refresh token works once more; the old one is spent.
    again = await client.post("/auth/refresh", json={"refresh_token": pair["refresh_token"]})
    assert again.status_code == 200


async def test_refresh_reuse_revokes_the_family(client):
    user = await register_and_login(client)
    stolen = user.refresh_token
    rotated = (await client.post("/auth/refresh", json={"refresh_token": stolen})).json()
    newest = (
        await client.post("/auth/refresh", json={"refresh_token": rotated["refresh_token"]})
    ).json()
    # Replaying the spent token: refused, and the whole family is revoked ...
    _assert_401(await client.post("/auth/refresh", json={"refresh_token": stolen}))
    # ... so even the newest refresh token of the family stops working,
    _assert_401(await client.post("/auth/refresh", json={"refresh_token": newest["refresh_token"]}))
    # and so do the family's access tokens.
    _assert_401(
        await client.get("/auth/me", headers={"Authorization": f"Bearer {newest['access_token']}"})
    )
    # Another session of the same user is unaffected.
    other = await login(client, user)
    assert (await client.get("/auth/me", headers=other.headers)).status_code == 200


async def test_logout_revokes_access_token_and_refresh_family(client):
    user = await register_and_login(client)
    refresh = user.refresh_token
    access = user.access_token
    resp = await client.post("/auth/logout", headers=user.headers)
    assert resp.status_code == 204, resp.text
    _assert_401(await client.get("/auth/me", headers={"Authorization": f"Bearer {access}"}))
    _assert_401(await client.post("/auth/refresh", json={"refresh_token": refresh}))
    _assert_401(await client.post("/auth/logout", headers={"Authorization": f"Bearer {access}"}))
    # Logging in again works.
    await login(client, user)
    assert (await client.get("/auth/me", headers=user.headers)).status_code == 200


async def test_rehash_on_login_when_costs_change(client, runtime):
    from sqlalchemy import select

    from forgekit.identity.models import User

    user = await register(client, "erin")
    async with runtime.db.session() as session:
        before = (
            await session.execute(select(User.password_hash).where(User.id == user.id))
        ).scalar_one()
    assert before.startswith("$argon2id$") and "t=1" in before
    runtime.settings.password_hash_time_cost = 2
    await login(client, user)
    async with runtime.db.session() as session:
        after = (
            await session.execute(select(User.password_hash).where(User.id == user.id))
        ).scalar_one()
    assert after != before and after.startswith("$argon2id$") and "t=2" in after
    await login(client, user)


async def test_concurrent_refreshes_with_one_token_cannot_both_win(client):
    import asyncio

    user = await register_and_login(client)
    results = await asyncio.gather(
        *(
            client.post("/auth/refresh", json={"refresh_token": user.refresh_token})
            for _ in range(2)
        )
    )
    assert sorted(r.status_code for r in results) == [200, 401]


async def test_unknown_user_costs_one_password_verification(client, monkeypatch):
    from forgekit.identity.security import PasswordHasher

    user = await register(client, "timing")
    calls = []
    original = PasswordHasher.verify

    async def counting(self, password_hash, password):
        calls.append(password_hash)
        return await original(self, password_hash, password)

    monkeypatch.setattr(PasswordHasher, "verify", counting)
    await client.post("/auth/login", data={"username": "nobody-here", "password": "x" * 12})
    await client.post("/auth/login", data={"username": user.username, "password": "x" * 12})
    # One argon2id verification each way (the unknown user against a dummy hash with the same
    # parameters), so response times do not tell which accounts exist.
    assert len(calls) == 2
    assert calls[0].split("$")[:4] == calls[1].split("$")[:4]


async def test_self_registered_accounts_get_the_products_default_role(
    forge_settings: ForgeSettings,
) -> None:
    # A marketplace registers its own global roles; its sign-ups are consumers, not owners.
    register_permissions(["listing:read"], {"consumer": ["listing:read"]})
    settings = forge_settings.model_copy(update={"default_user_role": "consumer"})
    app = create_app(settings, title="roles")
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            user = await register_and_login(client)
            me = await client.get("/auth/me", headers=user.headers)
    assert me.status_code == 200 and me.json()["role"] == "consumer"
