"""The dashboard's server side on both backends: what a signed-out browser gets, the 404 page
for a project one cannot see, the security headers, the assets, and the two APIs the pages
added (rules and highlighted source)."""

from __future__ import annotations

import io
import uuid
import zipfile

import httpx
import pytest

from forgekit.identity.testing import FAST_PASSWORD_HASHING, register, register_and_login
from pyforge.web.router import router as web_router

PROBLEM = "application/problem+json"


@pytest.fixture
def forge_settings(forge_settings):
    return forge_settings.model_copy(update=FAST_PASSWORD_HASHING)


def _sample(template: str) -> str:
    return (template.replace("{project_id}", str(uuid.uuid4()))
            .replace("{analysis_id}", str(uuid.uuid4()))
            .replace("{path}", "pkg/a.py").replace("{rule_id}", "BUG101"))  # fmt: skip


async def _browser_session(client: httpx.AsyncClient) -> str:
    user = await register(client)
    resp = await client.post(
        "/auth/session", data={"username": user.username, "password": user.password}
    )
    assert resp.status_code == 200, resp.text
    return user.username


async def test_signed_out_pages_go_to_sign_in_and_back(client: httpx.AsyncClient) -> None:
    public = {"GET /signin", "GET /signup", "GET /static/{name}"}
    dashboard = {f"GET {route.path}" for route in web_router.routes}
    assert len(dashboard) >= 12
    for op in sorted(dashboard - public):
        path = _sample(op.split(" ", 1)[1])
        resp = await client.get(path)
        assert resp.status_code == 303, (op, resp.status_code)
        assert resp.headers["location"].startswith("/signin?next=%2F"), op
    for page, button in (("/signin", "Sign in"), ("/signup", "Sign up")):
        resp = await client.get(page)
        assert resp.status_code == 200
        assert f'<button type="submit">{button}</button>' in resp.text
        assert '<label for="password">Password</label>' in resp.text


async def test_pages_carry_no_credential_and_a_strict_csp(
    client: httpx.AsyncClient, forge_settings
) -> None:
    username = await _browser_session(client)
    resp = await client.get("/")
    assert resp.status_code == 200
    csp = resp.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp.split("style-src")[0]
    assert f'data-user="{username}"' in resp.text
    app = forge_settings.app_name
    assert client.cookies[f"{app}_session"] not in resp.text
    assert f'data-csrf-cookie="{app}_csrf"' in resp.text
    assert "<script>" not in resp.text  # no inline script: the CSP would refuse it anyway


async def test_project_pages_404_for_outsiders_and_show_the_role(
    client: httpx.AsyncClient,
) -> None:
    owner = await register_and_login(client)
    headers = {"Authorization": f"Bearer {owner.access_token}"}
    created = await client.post("/api/v1/projects", json={"name": "mine"}, headers=headers)
    pid = created.json()["id"]

    own = await client.get(f"/projects/{pid}", headers=headers)
    assert own.status_code == 200 and 'data-role="owner"' in own.text
    assert 'data-can-analyze="1"' in own.text

    other = await register_and_login(client)
    denied = await client.get(
        f"/projects/{pid}", headers={"Authorization": f"Bearer {other.access_token}"}
    )
    assert denied.status_code == 404
    assert "Not found" in denied.text and "mine" not in denied.text
    missing = await client.get(f"/projects/{uuid.uuid4()}/findings", headers=headers)
    assert missing.status_code == 404


async def test_assets_are_versioned_and_cached(client: httpx.AsyncClient) -> None:
    page = await client.get("/signin")
    assert "/static/app.js?v=" in page.text
    resp = await client.get("/static/app.js")
    assert resp.status_code == 200 and resp.headers["content-type"].startswith("text/javascript")
    again = await client.get("/static/app.js", headers={"If-None-Match": resp.headers["etag"]})
    assert again.status_code == 304
    unknown = await client.get("/static/..%2Fpages.py")
    assert unknown.status_code == 404
    assert unknown.headers["content-type"].startswith(PROBLEM)


async def test_rules_api(client: httpx.AsyncClient) -> None:
    user = await register_and_login(client)
    headers = {"Authorization": f"Bearer {user.access_token}"}
    rules = await client.get("/api/v1/rules", headers=headers)
    assert rules.status_code == 200
    ids = {r["id"] for r in rules.json()}
    assert {"BUG101", "SEC-S307"} <= ids
    sec = await client.get("/api/v1/rules", params={"category": "security"}, headers=headers)
    assert sec.json() and all(r["category"] == "security" for r in sec.json())

    rule = await client.get("/api/v1/rules/S307", headers=headers)  # a bare ruff code
    assert rule.status_code == 200 and rule.json()["id"] == "SEC-S307"
    assert "<h2>" in rule.json()["help_html"] and "<pre><code" in rule.json()["help_html"]
    missing = await client.get("/api/v1/rules/NOPE999", headers=headers)
    assert missing.status_code == 404 and missing.headers["content-type"].startswith(PROBLEM)


async def test_source_api_highlights_and_escapes(client: httpx.AsyncClient) -> None:
    user = await register_and_login(client)
    headers = {"Authorization": f"Bearer {user.access_token}"}
    pid = (await client.post("/api/v1/projects", json={"name": "src"}, headers=headers)).json()[
        "id"
    ]
    text = '\n\nx = "<script>alert(1)</script>"\ndef f():\n    return x\n'
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("pkg/a.py", text)
        zf.writestr("bin.dat", b"\xff\xfe\x00")
    up = await client.post(f"/api/v1/projects/{pid}/files", files={"file": ("t.zip", buf.getvalue())},
                           headers=headers)  # fmt: skip
    assert up.status_code == 201, up.text

    resp = await client.get(f"/api/v1/projects/{pid}/source", params={"path": "pkg/a.py"},
                            headers=headers)  # fmt: skip
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["language"] == "Python"
    assert len(body["lines"]) == text.count("\n")  # leading blank lines kept: numbers line up
    assert body["lines"][0] == "" and "&lt;script&gt;" in body["lines"][2]
    assert "<script>" not in "".join(body["lines"])
    assert '<span class="tok-k">def</span>' in body["lines"][3]

    binary = await client.get(f"/api/v1/projects/{pid}/source", params={"path": "bin.dat"},
                              headers=headers)  # fmt: skip
    assert binary.status_code == 400 and binary.headers["content-type"].startswith(PROBLEM)
    missing = await client.get(f"/api/v1/projects/{pid}/source", params={"path": "nope.py"},
                               headers=headers)  # fmt: skip
    assert missing.status_code == 404
