"""API keys: shown once, hashed at rest, scoped, rotatable, revocable, expiring."""

import asyncio
import re
from datetime import timedelta

import pytest
from sqlalchemy import event as sa_event
from sqlalchemy import select, update

from forgekit.db.base import utcnow
from forgekit.identity.models import ApiKey
from forgekit.identity.security import sha256_hex
from forgekit.identity.testing import FAST_PASSWORD_HASHING, create_api_key, register_and_login

KEY_RE = re.compile(r"^fgk_[A-Za-z0-9_\-]{32,}$")


@pytest.fixture
def forge_settings(forge_settings):
    return forge_settings.model_copy(update=FAST_PASSWORD_HASHING)


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


async def test_create_list_and_storage(client, runtime):
    user = await register_and_login(client)
    created = await create_api_key(client, user, ["project:read", "team:read"], name="ci")
    key = created["key"]
    assert KEY_RE.match(key)
    assert created["prefix"] == key[:12] and created["scopes"] == ["project:read", "team:read"]

    listed = await client.get("/auth/api-keys", headers=user.headers)
    assert listed.status_code == 200
    [row] = listed.json()
    assert row["id"] == created["id"] and row["name"] == "ci"
    assert "key" not in row and key not in listed.text

    async with runtime.db.session() as session:
        stored = (await session.execute(select(ApiKey))).scalar_one()
    assert stored.key_hash == sha256_hex(key) and key not in stored.key_hash

    # Other users neither see nor touch the key.
    other = await register_and_login(client)
    assert (await client.get("/auth/api-keys", headers=other.headers)).json() == []
    assert (
        await client.delete(f"/auth/api-keys/{created['id']}", headers=other.headers)
    ).status_code == 404
    assert (
        await client.post(f"/auth/api-keys/{created['id']}/rotate", headers=other.headers)
    ).status_code == 404


async def test_both_header_forms_and_scopes(client):
    user = await register_and_login(client)
    reader = (await create_api_key(client, user, ["team:read"]))["key"]
    bare = (await create_api_key(client, user, []))["key"]

    for headers in (bearer(reader), {"X-API-Key": reader}):
        me = await client.get("/auth/me", headers=headers)
        assert me.status_code == 200, me.text
        assert me.json()["id"] == str(user.id)
        assert (await client.get("/api/v1/teams", headers=headers)).status_code == 200
        denied = await client.post("/api/v1/teams", json={"name": "x"}, headers=headers)
        assert denied.status_code == 403, denied.text
        assert denied.json()["missing_scopes"] == ["team:write"]

    # Reading one's own identity needs no scope; anything else does.
    assert (await client.get("/auth/me", headers={"X-API-Key": bare})).status_code == 200
    assert (await client.get("/api/v1/teams", headers={"X-API-Key": bare})).status_code == 403
    # Two different credentials at once are refused.
    both = {"Authorization": f"Bearer {reader}", "X-API-Key": bare}
    assert (await client.get("/auth/me", headers=both)).status_code == 401


async def test_keys_cannot_escalate(client):
    user = await register_and_login(client)
    # A user cannot grant a key more than their own role holds (owner is not admin).
    resp = await client.post(
        "/auth/api-keys", json={"name": "x", "scopes": ["admin:*"]}, headers=user.headers
    )
    assert resp.status_code == 403
    assert (
        await client.post(
            "/auth/api-keys", json={"name": "x", "scopes": ["nope:x"]}, headers=user.headers
        )
    ).status_code == 422
    # A key cannot manage keys without admin:* (owners can't grant it, so no user key can).
    key = (await create_api_key(client, user, ["project:read", "team:write"]))["key"]
    for method, path in (
        ("POST", "/auth/api-keys"),
        ("GET", "/auth/api-keys"),
    ):
        resp = await client.request(
            method, path, json={"name": "child", "scopes": []}, headers={"X-API-Key": key}
        )
        assert resp.status_code == 403, (path, resp.text)
    # Logout is for sessions.
    assert (await client.post("/auth/logout", headers={"X-API-Key": key})).status_code == 400


async def test_rotation_and_revocation(client):
    user = await register_and_login(client)
    created = await create_api_key(client, user, ["team:read"])
    old = created["key"]
    rotated = await client.post(f"/auth/api-keys/{created['id']}/rotate", headers=user.headers)
    assert rotated.status_code == 200, rotated.text
    new = rotated.json()["key"]
    assert new != old and KEY_RE.match(new)
    assert rotated.json()["id"] == created["id"] and rotated.json()["scopes"] == ["team:read"]
    assert (await client.get("/auth/me", headers=bearer(old))).status_code == 401
    assert (await client.get("/auth/me", headers=bearer(new))).status_code == 200

    resp = await client.delete(f"/auth/api-keys/{created['id']}", headers=user.headers)
    assert resp.status_code == 204
    revoked = await client.get("/auth/me", headers=bearer(new))
    assert revoked.status_code == 401
    assert revoked.headers["content-type"].startswith("application/problem+json")
    assert (await client.get("/auth/api-keys", headers=user.headers)).json() == []
    assert (
        await client.delete(f"/auth/api-keys/{created['id']}", headers=user.headers)
    ).status_code == 404


async def test_expiry(client, runtime):
    user = await register_and_login(client)
    past = await client.post(
        "/auth/api-keys",
        json={
            "name": "x",
            "scopes": [],
            "expires_at": (utcnow() - timedelta(seconds=5)).isoformat(),
        },
        headers=user.headers,
    )
    assert past.status_code == 422
    naive = await client.post(
        "/auth/api-keys",
        json={"name": "x", "scopes": [], "expires_at": "2099-01-01T00:00:00"},
        headers=user.headers,
    )
    assert naive.status_code == 422
    created = await create_api_key(
        client, user, [], expires_at=(utcnow() + timedelta(hours=1)).isoformat()
    )
    assert (await client.get("/auth/me", headers=bearer(created["key"]))).status_code == 200
    async with runtime.db.transaction() as session:
        await session.execute(update(ApiKey).values(expires_at=utcnow() - timedelta(seconds=1)))
    expired = await client.get("/auth/me", headers=bearer(created["key"]))
    assert expired.status_code == 401


async def test_last_used_at_written_at_most_once_a_minute(client, runtime):
    user = await register_and_login(client)
    created = await create_api_key(client, user, [])
    assert created["last_used_at"] is None

    async def last_used():
        async with runtime.db.session() as session:
            return (await session.execute(select(ApiKey.last_used_at))).scalar_one()

    assert (await client.get("/auth/me", headers=bearer(created["key"]))).status_code == 200
    first = await last_used()
    assert first is not None
    await asyncio.sleep(0.01)
    await client.get("/auth/me", headers=bearer(created["key"]))
    assert await last_used() == first  # within the minute: no write
    async with runtime.db.transaction() as session:
        await session.execute(update(ApiKey).values(last_used_at=first - timedelta(minutes=2)))
    await client.get("/auth/me", headers=bearer(created["key"]))
    assert await last_used() > first - timedelta(minutes=2)
    listed = (await client.get("/auth/api-keys", headers=user.headers)).json()
    assert listed[0]["last_used_at"] is not None


async def test_recently_used_key_costs_no_write(client, runtime):
    """Within the minute the key row read already shows the write is not due: no UPDATE is
    sent at all (on SQLite even a no-op UPDATE would take the database's write lock)."""
    user = await register_and_login(client)
    created = await create_api_key(client, user, [])
    statements: list[str] = []

    def record(conn, cursor, statement, *args):
        statements.append(statement)

    engine = runtime.db.engine.sync_engine
    assert (await client.get("/auth/me", headers=bearer(created["key"]))).status_code == 200
    sa_event.listen(engine, "before_cursor_execute", record)
    try:
        for _ in range(3):
            assert (await client.get("/auth/me", headers=bearer(created["key"]))).status_code == 200
    finally:
        sa_event.remove(engine, "before_cursor_execute", record)
    assert any("api_keys" in s for s in statements)  # the key was still read each time
    assert not [s for s in statements if s.lstrip().upper().startswith("UPDATE API_KEYS")]


async def test_key_scopes_narrow_when_owner_is_demoted(client, runtime):
    from forgekit.identity.models import User

    user = await register_and_login(client)
    key = (await create_api_key(client, user, ["team:write", "team:read"]))["key"]
    assert (
        await client.post("/api/v1/teams", json={"name": "t"}, headers=bearer(key))
    ).status_code == 201
    async with runtime.db.transaction() as session:
        await session.execute(update(User).where(User.id == user.id).values(role="viewer"))
    assert (
        await client.post("/api/v1/teams", json={"name": "t"}, headers=bearer(key))
    ).status_code == 403
    assert (await client.get("/api/v1/teams", headers=bearer(key))).status_code == 200


async def test_principal_rate_key(client, app):
    from starlette.requests import Request

    from forgekit.identity.deps import principal_rate_key

    user = await register_and_login(client)
    key = (await create_api_key(client, user, []))["key"]

    def request(headers):
        return Request(
            {
                "type": "http",
                "method": "GET",
                "path": "/",
                "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
                "app": app,
                "client": ("203.0.113.7", 5555),
            }
        )

    assert principal_rate_key(request({})) == "ip:203.0.113.7"
    assert principal_rate_key(request(user.headers)) == f"user:{user.id}"
    assert principal_rate_key(request({"X-API-Key": key})).startswith("key:")
    assert (
        principal_rate_key(request({"Authorization": "Bearer forged.jwt.value"}))
        == "ip:203.0.113.7"
    )
    # Once authentication ran, the resolved principal is used (the key's id).
    resp = await client.get("/auth/api-keys", headers=user.headers)
    key_id = resp.json()[0]["id"]
    req = request({"X-API-Key": key})
    from forgekit.identity.deps import get_optional_principal

    async with app.state.runtime.db.session() as session:
        principal = await get_optional_principal(req, session, None, None)
    assert principal is not None and principal_rate_key(req) == f"key:{key_id}"
