"""Browser sessions (forgekit.identity.browser): sign-in sets HttpOnly cookies that every API
route accepts; a state-changing request needs the CSRF header; refresh and sign-out; a
cross-site sign-in is refused. Every test runs on the embedded and the real backend."""

import pytest

from forgekit.identity.testing import FAST_PASSWORD_HASHING, register

PROBLEM = "application/problem+json"


@pytest.fixture
def forge_settings(forge_settings):
    return forge_settings.model_copy(update=FAST_PASSWORD_HASHING)


async def _sign_in(client, user):
    resp = await client.post(
        "/auth/session", data={"username": user.username, "password": user.password}
    )
    assert resp.status_code == 200, resp.text
    return resp


async def test_sign_in_sets_httponly_cookies_that_authenticate(client, forge_settings):
    user = await register(client)
    resp = await _sign_in(client, user)
    assert resp.json()["username"] == user.username
    cookies = {c.split("=", 1)[0]: c.lower() for c in resp.headers.get_list("set-cookie")}
    app = forge_settings.app_name
    assert "httponly" in cookies[f"{app}_session"] and "samesite=strict" in cookies[f"{app}_session"]
    assert "httponly" in cookies[f"{app}_refresh"] and "path=/auth/session" in cookies[f"{app}_refresh"]
    assert "httponly" not in cookies[f"{app}_csrf"]
    # No token in the body: the page never holds a credential.
    assert "access_token" not in resp.text

    me = await client.get("/auth/me")
    assert me.status_code == 200 and me.json()["username"] == user.username


async def test_state_change_needs_the_csrf_header(client, forge_settings):
    user = await register(client)
    await _sign_in(client, user)
    csrf = client.cookies[f"{forge_settings.app_name}_csrf"]

    forged = await client.post("/api/v1/teams", json={"name": "forged-team"})
    assert forged.status_code == 403
    assert forged.headers["content-type"].startswith(PROBLEM)
    assert "X-CSRF-Token" in forged.json()["detail"]
    wrong = await client.post(
        "/api/v1/teams", json={"name": "wrong-team"}, headers={"X-CSRF-Token": "nope"}
    )
    assert wrong.status_code == 403

    ok = await client.post(
        "/api/v1/teams", json={"name": "real-team"}, headers={"X-CSRF-Token": csrf}
    )
    assert ok.status_code == 201, ok.text
    listed = await client.get("/api/v1/teams")
    assert [t["name"] for t in listed.json()] == ["real-team"]


async def test_refresh_rotates_and_sign_out_ends_the_session(client, forge_settings):
    user = await register(client)
    await _sign_in(client, user)
    app = forge_settings.app_name
    csrf = client.cookies[f"{app}_csrf"]
    old_access = client.cookies[f"{app}_session"]

    assert (await client.post("/auth/session/refresh")).status_code == 403  # no CSRF header
    refreshed = await client.post("/auth/session/refresh", headers={"X-CSRF-Token": csrf})
    assert refreshed.status_code == 200, refreshed.text
    assert client.cookies[f"{app}_session"] != old_access

    csrf = client.cookies[f"{app}_csrf"]
    access = client.cookies[f"{app}_session"]
    out = await client.delete("/auth/session", headers={"X-CSRF-Token": csrf})
    assert out.status_code == 204
    assert f"{app}_session" not in client.cookies
    # The token itself is dead too, not just forgotten by this browser.
    replay = await client.get("/auth/me", headers={"Authorization": f"Bearer {access}"})
    assert replay.status_code == 401
    assert (await client.get("/auth/me")).status_code == 401


async def test_cross_site_sign_in_and_bad_password_are_refused(client):
    user = await register(client)
    cross = await client.post(
        "/auth/session",
        data={"username": user.username, "password": user.password},
        headers={"Origin": "https://evil.example"},
    )
    assert cross.status_code == 403
    assert not client.cookies
    bad = await client.post("/auth/session", data={"username": user.username, "password": "x" * 12})
    assert bad.status_code == 401
    assert bad.headers["content-type"].startswith(PROBLEM)
    assert not client.cookies


async def test_a_header_credential_wins_over_the_cookie(client):
    """An API client that also carries a cookie is judged by its header (no CSRF needed)."""
    user = await register(client)
    await _sign_in(client, user)
    login = await client.post(
        "/auth/login", data={"username": user.username, "password": user.password}
    )
    token = login.json()["access_token"]
    resp = await client.post(
        "/api/v1/teams", json={"name": "by-header"}, headers={"Authorization": f"Bearer {token}"}
    )
    assert resp.status_code == 201, resp.text
