"""Hostile requests: deep JSON, invalid UTF-8, NUL bytes, lone surrogates, oversized bodies.

Each must get a 4xx problem document (never a 500, never a stored half row), on SQLite and on
PostgreSQL (which refuses NUL characters in text and invalid UTF-8 outright).
"""

from __future__ import annotations

import json
from urllib.parse import quote

import httpx
import pytest

from forgekit.identity.testing import register_and_login
from pyforge.projects.testing import new_project

pytestmark = pytest.mark.hostile
PROJECTS = "/api/v1/projects"
NASTY_STRINGS = ["a\x00b", "\ud800", "x\udfffy", "\x00", "\u202e\u0000"]


def _assert_problem(resp: httpx.Response, *allowed: int) -> None:
    assert resp.status_code in allowed, (resp.status_code, resp.text[:300])
    assert resp.headers["content-type"] == "application/problem+json", resp.headers
    assert "Traceback" not in resp.text


async def test_deeply_nested_json_is_refused(client: httpx.AsyncClient) -> None:
    user = await register_and_login(client)
    for depth in (1_000, 100_000):
        body = '{"name": ' + "[" * depth + "]" * depth + "}"
        resp = await client.post(PROJECTS, content=body, headers={
            **user.headers, "content-type": "application/json"})  # fmt: skip
        _assert_problem(resp, 400, 422)


async def test_invalid_utf8_body_is_refused(client: httpx.AsyncClient) -> None:
    user = await register_and_login(client)
    resp = await client.post(PROJECTS, content=b'{"name": "\xff\xfe bad"}', headers={
        **user.headers, "content-type": "application/json"})  # fmt: skip
    _assert_problem(resp, 400, 422)


@pytest.mark.parametrize("nasty", NASTY_STRINGS)
async def test_nul_and_lone_surrogates_in_string_fields(
    client: httpx.AsyncClient, nasty: str
) -> None:
    user = await register_and_login(client)
    json_headers = {**user.headers, "content-type": "application/json"}
    # json.dumps escapes them (\\u0000, \\ud800): valid JSON carrying invalid text.
    body = json.dumps({"name": f"p{nasty}", "description": nasty})
    _assert_problem(await client.post(PROJECTS, content=body, headers=json_headers), 422)
    pid = (await new_project(client, user))["id"]
    body = json.dumps({"description": nasty})
    resp = await client.patch(f"{PROJECTS}/{pid}", content=body, headers=json_headers)
    _assert_problem(resp, 422)
    escaped = quote(nasty, errors="surrogatepass")
    resp = await client.get(f"{PROJECTS}?q={escaped}", headers=user.headers)
    if "\x00" in nasty:
        _assert_problem(resp, 422)
    else:  # invalid UTF-8 in a URL decodes to U+FFFD: harmless text
        assert resp.status_code == 200, resp.text
    form = f"username={escaped}&password={escaped}"
    resp = await client.post("/auth/login", content=form,
                             headers={"content-type": "application/x-www-form-urlencoded"})  # fmt: skip
    _assert_problem(resp, 401, 422)
    listed = await client.get(PROJECTS, headers=user.headers)
    assert listed.json()["total"] == 1  # nothing half-stored


async def test_oversized_json_body_is_refused(client: httpx.AsyncClient) -> None:
    user = await register_and_login(client)
    resp = await client.post(PROJECTS, json={"name": "big", "description": "x" * 5_000_000},
                             headers=user.headers)  # fmt: skip
    _assert_problem(resp, 413, 422)


async def test_method_not_allowed_names_every_method_of_the_path(
    client: httpx.AsyncClient,
) -> None:
    resp = await client.put(PROJECTS)
    _assert_problem(resp, 405)
    assert resp.headers["allow"] == "GET, POST"
