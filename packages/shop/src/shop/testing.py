"""Test helpers: staff and customer accounts, a channel, and a product through the API."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from forgekit.identity.testing import TestUser, register_and_login, set_user
from forgekit.runtime import Runtime


async def staff_user(client: httpx.AsyncClient, runtime: Runtime) -> TestUser:
    """A logged-in account with the staff role."""
    user = await register_and_login(client)
    await set_user(runtime, user, role="staff")
    return user


async def make_channel(
    client: httpx.AsyncClient, staff: TestUser, code: str = "eu", currency: str = "eur"
) -> dict[str, Any]:
    """A sales channel."""
    body = {"code": code, "name": code.upper(), "currency": currency}
    resp = await client.post("/api/v1/channels", headers=staff.headers, json=body)
    assert resp.status_code == 201, resp.text
    channel: dict[str, Any] = resp.json()
    return channel


async def make_product(
    client: httpx.AsyncClient,
    staff: TestUser,
    *,
    slug: str | None = None,
    prices: dict[str, int] | None = None,
    publish: bool = True,
    **fields: Any,
) -> dict[str, Any]:
    """A product with one variant priced in the given channels (published by default)."""
    slug = slug or f"p-{uuid.uuid4().hex[:8]}"
    body = {"slug": slug, "name": fields.pop("name", slug.replace("-", " ").title()),
            "variants": fields.pop("variants", [
                {"sku": slug.upper(), "prices": prices or {"eu": 1000}}]), **fields}  # fmt: skip
    resp = await client.post("/api/v1/products", json=body, headers=staff.headers)
    assert resp.status_code == 201, resp.text
    product: dict[str, Any] = resp.json()
    if publish:
        resp = await client.post(f"/api/v1/products/{product['id']}/publish", headers=staff.headers)
        assert resp.status_code == 200, resp.text
        product = resp.json()
    return product
