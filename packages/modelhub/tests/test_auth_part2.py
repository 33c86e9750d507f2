"""The four auth cases (anonymous, wrong role or scope, someone else's, valid) of part 2's
routes that need a world of their own: jobs, purchases, usage and analytics."""

from __future__ import annotations

import asyncio
import time

import httpx
from modelhub.testing import affine_onnx, host_model

from forgekit.identity.testing import create_api_key, register_and_login
from forgekit.runtime import Runtime
from forgekit.testing.payments import fake_provider

PROBLEM = "application/problem+json"
BODY = {"inputs": {"x": [[0.0, 1.0, 2.0, 3.0]]}}


def _problem(resp: httpx.Response, status: int) -> None:
    assert resp.status_code == status, resp.text
    assert resp.headers["content-type"].startswith(PROBLEM)


async def test_four_auth_cases_of_jobs_usage_and_analytics(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    hosted = await host_model(client, runtime, affine_onnx())
    owner = await register_and_login(client)
    other = await register_and_login(client)
    narrow = {"X-API-Key": (await create_api_key(client, owner, ["team:read"]))["key"]}
    resp = await client.post(hosted.infer_url(), json=BODY,
                             headers={**owner.headers, "Prefer": "respond-async"})  # fmt: skip
    job = resp.headers["Location"]
    deadline = time.monotonic() + 60
    while (await client.get(job, headers=owner.headers)).json()["status"] != "succeeded":
        assert time.monotonic() < deadline
        await asyncio.sleep(0.05)
    # Jobs: 401; a key without inference scopes cannot submit one (403); another's is 404.
    for method, url in (("GET", job), ("POST", f"{job}/cancel")):
        _problem(await client.request(method, url), 401)
        _problem(await client.request(method, url, headers=other.headers), 404)
    _problem(await client.post(hosted.infer_url(), json=BODY,
                               headers={**narrow, "Prefer": "respond-async"}), 403)  # fmt: skip
    assert (await client.get(job, headers=owner.headers)).status_code == 200
    _problem(await client.post(f"{job}/cancel", headers=owner.headers), 409)  # finished
    # Usage and analytics: 401 anonymous; the publisher dashboard needs model:publish (403);
    # each caller sees only their own (the other consumer's report is empty).
    for url in ("/api/v1/usage", "/api/v1/analytics/spend", "/api/v1/analytics/top-models",
                "/api/v1/analytics/publisher"):  # fmt: skip
        _problem(await client.get(url), 401)
    _problem(await client.get("/api/v1/analytics/publisher", headers=owner.headers), 403)
    assert (await client.get("/api/v1/usage", headers=other.headers)).json()["rows"] == []
    assert (await client.get("/api/v1/analytics/spend", headers=other.headers)).json()["rows"] == []
    mine = (await client.get("/api/v1/usage", headers=owner.headers)).json()["rows"]
    assert [r["calls"] for r in mine] == [1]
    dash = await client.get("/api/v1/analytics/publisher", headers=hosted.publisher.headers)
    assert [r["calls"] for r in dash.json()["rows"]] == [1]
    assert (
        await client.get("/api/v1/analytics/top-models", headers=other.headers)
    ).status_code == 200


async def test_four_auth_cases_of_purchases(client: httpx.AsyncClient, runtime: Runtime) -> None:
    hosted = await host_model(client, runtime, affine_onnx(), pricing={"purchase_price": 500})
    buyer = await register_and_login(client)
    other = await register_and_login(client)
    narrow = {"X-API-Key": (await create_api_key(client, buyer, ["team:read"]))["key"]}
    with fake_provider() as provider:
        runtime.app_settings.payments_base_url = provider.base_url  # type: ignore[attr-defined]
        runtime.app_settings.payments_api_key = provider.api_key  # type: ignore[attr-defined]
        url, body = f"{hosted.base}/purchase", {"payment_method": "pm_card_visa"}
        _problem(await client.post(url, json=body), 401)
        _problem(await client.post(url, json=body, headers=narrow), 403)  # no model:infer
        resp = await client.post(url, json=body, headers=buyer.headers)
        assert resp.status_code == 202, resp.text
        purchase = resp.headers["Location"]
        _problem(await client.get(purchase), 401)
        _problem(await client.get(purchase, headers=other.headers), 404)
        assert (await client.get(purchase, headers=buyer.headers)).status_code == 200
        await runtime.events.drain()
