"""The same four tests for every Aquaculture endpoint, on both backends: anonymous 401, an API
key without the scope 403, a farm the caller is no member of 404, and the valid call."""

import io
import zipfile
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from aquaculture.testing import fish_png, make_farm

from forgekit.identity.testing import TestUser, create_api_key, register_and_login


@dataclass
class World:
    owner: TestUser
    outsider: TestUser
    ids: dict[str, str]


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str
    scope: str
    ok: int = 200
    body: Any = None
    upload: bool = False


ENDPOINTS = [
    Endpoint("GET", "/api/v1/farms/{farm}", "farm:read"),
    Endpoint("GET", "/api/v1/farms/{farm}/members", "farm:read"),
    Endpoint(
        "POST",
        "/api/v1/farms/{farm}/members",
        "team:manage_members",
        201,
        {"username": "{newbie}", "role": "operator"},
    ),
    Endpoint("POST", "/api/v1/farms/{farm}/sites", "farm:manage", 201, {"name": "Pier 9"}),
    Endpoint("GET", "/api/v1/farms/{farm}/sites", "farm:read"),
    Endpoint("POST", "/api/v1/farms/{farm}/sites/{site}/tanks", "farm:manage", 201, {"name": "T9"}),
    Endpoint("GET", "/api/v1/farms/{farm}/tanks", "farm:read"),
    Endpoint(
        "POST",
        "/api/v1/farms/{farm}/tanks/{tank}/observations",
        "observation:write",
        201,
        upload=True,
    ),
    Endpoint("GET", "/api/v1/farms/{farm}/observations", "farm:read"),
    Endpoint("GET", "/api/v1/farms/{farm}/observations.csv", "farm:read"),
    Endpoint("GET", "/api/v1/farms/{farm}/tanks/{tank}/species-counts", "farm:read"),
    Endpoint("GET", "/api/v1/farms/{farm}/observations/{obs}", "farm:read"),
    Endpoint(
        "POST",
        "/api/v1/farms/{farm}/observations/{obs}/label",
        "observation:write",
        200,
        {"species": "ribbon_eel"},
    ),
    Endpoint("GET", "/api/v1/farms/{farm}/observations/{obs}/corrections", "farm:read"),
    Endpoint("GET", "/api/v1/farms/{farm}/labelled-data.zip", "farm:read"),
    Endpoint("GET", "/api/v1/farms/{farm}/jobs/{job}", "farm:read"),
]


def _zip(n: int) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        for i in range(n):
            z.writestr(f"{i}.png", fish_png(i % 6, seed=i, size=48))
    return out.getvalue()


async def _world(client: httpx.AsyncClient) -> World:
    owner, outsider = await register_and_login(client), await register_and_login(client)
    newbie = await register_and_login(client)
    farm, site, tank = await make_farm(client, owner.headers)
    up = await client.post(
        f"/api/v1/farms/{farm}/tanks/{tank}/observations",
        headers=owner.headers,
        files={"file": ("a.png", fish_png(), "image/png")},
    )
    assert up.status_code == 201, up.text
    job = await client.post(
        f"/api/v1/farms/{farm}/tanks/{tank}/observations",
        headers=owner.headers,
        files={"file": ("b.zip", _zip(21), "application/zip")},
    )
    assert job.status_code == 202, job.text
    ids = {
        "farm": farm,
        "site": site,
        "tank": tank,
        "obs": up.json()["observations"][0]["id"],
        "job": job.json()["job"]["id"],
        "newbie": newbie.username,
    }
    return World(owner, outsider, ids)


async def _call(
    client: httpx.AsyncClient, e: Endpoint, ids: dict[str, str], headers: dict[str, str]
) -> httpx.Response:
    path = e.path.format(**ids)
    kwargs: dict[str, Any] = {"headers": headers}
    if e.upload:
        kwargs["files"] = {"file": ("c.png", fish_png(2, seed=5), "image/png")}
    elif e.body is not None:
        kwargs["json"] = {k: v.format(**ids) for k, v in e.body.items()}
    return await client.request(e.method, path, **kwargs)


def _problem(resp: httpx.Response, status: int, what: str) -> None:
    assert resp.status_code == status, f"{what}: {resp.status_code} {resp.text[:300]}"
    assert resp.headers["content-type"].startswith("application/problem+json"), what


async def test_every_endpoint_answers_401_403_404_and_the_valid_call(
    client: httpx.AsyncClient,
) -> None:
    w = await _world(client)
    # An API key with only team:read: valid credentials without the endpoint's scope.
    narrow = {"X-API-Key": (await create_api_key(client, w.owner, ["team:read"]))["key"]}
    for e in ENDPOINTS:
        what = f"{e.method} {e.path}"
        _problem(await _call(client, e, w.ids, {}), 401, what)
        _problem(await _call(client, e, w.ids, narrow), 403, what)
        _problem(await _call(client, e, w.ids, w.outsider.headers), 404, what)
        resp = await _call(client, e, w.ids, w.owner.headers)
        assert resp.status_code == e.ok, f"{what}: {resp.status_code} {resp.text[:300]}"


@pytest.mark.parametrize("path", ["/api/v1/farms", "/api/v1/model"])
async def test_account_wide_endpoints(client: httpx.AsyncClient, path: str) -> None:
    _problem(await client.get(path), 401, path)
    user = await register_and_login(client)
    assert (await client.get(path, headers=user.headers)).status_code == 200


async def test_creating_a_farm_needs_farm_manage(client: httpx.AsyncClient) -> None:
    _problem(await client.post("/api/v1/farms", json={"name": "x"}), 401, "anonymous")
    user = await register_and_login(client)
    narrow = {"X-API-Key": (await create_api_key(client, user, ["farm:read"]))["key"]}
    _problem(await client.post("/api/v1/farms", json={"name": "x"}, headers=narrow), 403, "key")
    resp = await client.post("/api/v1/farms", json={"name": "x"}, headers=user.headers)
    assert resp.status_code == 201 and resp.json()["role"] == "admin"
