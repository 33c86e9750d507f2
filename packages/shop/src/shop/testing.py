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


#: The search tests' catalogue:
#: (slug, name, category, brand, [(sku suffix, colour, size, EUR cents)])
SEARCH_PRODUCTS: list[tuple[str, str, str, str, list[tuple[str, str, str, int]]]] = [
    ("rain-jacket", "Rain shell jacket", "jackets", "Fjord",
     [("Y", "yellow", "M", 12900), ("G", "green", "L", 13900)]),
    ("down-jacket", "Down puffer jacket", "jackets", "Nordpol", [("B", "black", "M", 19900)]),
    ("denim-jacket", "Denim jacket", "jackets", "Marin", [("B", "blue", "M", 7900)]),
    ("cotton-tee", "Organic cotton T-shirt", "t-shirts", "Fjord",
     [("W", "white", "S", 1900), ("B", "blue", "M", 2100)]),
    ("breton-tee", "Striped Breton shirt", "t-shirts", "Marin", [("B", "blue", "L", 2900)]),
    ("linen-shirt", "Linen summer shirt", "shirts", "Marin", [("W", "white", "M", 4900)]),
    ("skillet", "Cast iron skillet", "kitchen", "Ironhearth", [("K", "black", "", 4500)]),
    ("chef-knife", "Chef knife", "kitchen", "Ironhearth", [("S", "steel", "", 8900)]),
    ("table-lamp", "Linen table lamp", "home", "Lumen", [("N", "natural", "", 7900)]),
]  # fmt: skip
#: (slug, parent)
SEARCH_CATEGORIES = [("clothing", None), ("jackets", "clothing"), ("t-shirts", "clothing"),
              ("shirts", "clothing"), ("home", None), ("kitchen", "home")]  # fmt: skip


async def build_search_catalogue(client: httpx.AsyncClient, staff: TestUser) -> None:
    """Create the channel, categories and published products above."""
    resp = await client.post("/api/v1/channels", headers=staff.headers,
                             json={"code": "eu", "name": "EU", "currency": "eur"})  # fmt: skip
    assert resp.status_code == 201, resp.text
    ids: dict[str, Any] = {}
    for slug, parent in SEARCH_CATEGORIES:
        resp = await client.post("/api/v1/categories", headers=staff.headers, json={
            "slug": slug, "name": slug.title(), "parent_id": ids.get(parent or "")})  # fmt: skip
        assert resp.status_code == 201, resp.text
        ids[slug] = resp.json()["id"]
    for slug, name, category, brand, variants in SEARCH_PRODUCTS:
        body = {"slug": slug, "name": name, "category_id": ids[category],
                "description": f"{name} by {brand}.", "attributes": {"brand": brand},
                "variants": [{"sku": f"{slug}-{suffix}".upper(),
                              "attributes": {"colour": colour, **({"size": size} if size else {})},
                              "prices": {"eu": cents}}
                             for suffix, colour, size, cents in variants]}  # fmt: skip
        resp = await client.post("/api/v1/products", json=body, headers=staff.headers)
        assert resp.status_code == 201, resp.text
        published = await client.post(f"/api/v1/products/{resp.json()['id']}/publish",
                                      headers=staff.headers)  # fmt: skip
        assert published.status_code == 200, published.text
