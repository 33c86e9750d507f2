"""Test helpers: staff and customer accounts, a channel, and a product through the API."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import httpx
import pyotp

from forgekit.identity.testing import TestUser, register_and_login, set_user
from forgekit.runtime import Runtime
from forgekit.settings import ForgeSettings
from forgekit.testing.servers import same_backends_env


def process_env(settings: ForgeSettings, data: Path, port: int, **extra: str) -> dict[str, str]:
    """The environment of a ``shop`` process (API or worker) on the same backends as
    ``settings`` (a test's database, Redis prefix, exchange and queues)."""
    return same_backends_env(
        settings, "SHOP", data, port, FORGE_DATABASE_POOL_SIZE="3",
        FORGE_DATABASE_MAX_OVERFLOW="2", SHOP_PAYMENTS_FAKE="false",
        SHOP_DEMO_CATALOGUE="false", **extra,
    )  # fmt: skip


async def staff_user(
    client: httpx.AsyncClient, runtime: Runtime, *, enrol: bool = True
) -> TestUser:
    """A logged-in account with the staff role, enrolled in TOTP MFA (which the shop requires
    of staff) unless ``enrol`` is False."""
    user = await register_and_login(client)
    await set_user(runtime, user, role="staff")
    if enrol:
        started = await client.post("/auth/mfa/totp", headers=user.headers)
        assert started.status_code in (200, 201), started.text
        code = pyotp.TOTP(started.json()["secret"]).now()
        confirmed = await client.post(
            "/auth/mfa/totp/confirm", json={"code": code}, headers=user.headers
        )
        assert confirmed.status_code == 200, confirmed.text
        user.extra["recovery_codes"] = confirmed.json().get("recovery_codes", [])
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
    body = {
        "slug": slug,
        "name": fields.pop("name", slug.replace("-", " ").title()),
        "variants": fields.pop(
            "variants", [{"sku": slug.upper(), "prices": prices or {"eu": 1000}}]
        ),
        **fields,
    }
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
    (
        "rain-jacket",
        "Rain shell jacket",
        "jackets",
        "Fjord",
        [("Y", "yellow", "M", 12900), ("G", "green", "L", 13900)],
    ),
    ("down-jacket", "Down puffer jacket", "jackets", "Nordpol", [("B", "black", "M", 19900)]),
    ("denim-jacket", "Denim jacket", "jackets", "Marin", [("B", "blue", "M", 7900)]),
    (
        "cotton-tee",
        "Organic cotton T-shirt",
        "t-shirts",
        "Fjord",
        [("W", "white", "S", 1900), ("B", "blue", "M", 2100)],
    ),
    ("breton-tee", "Striped Breton shirt", "t-shirts", "Marin", [("B", "blue", "L", 2900)]),
    ("linen-shirt", "Linen summer shirt", "shirts", "Marin", [("W", "white", "M", 4900)]),
    ("skillet", "Cast iron skillet", "kitchen", "Ironhearth", [("K", "black", "", 4500)]),
    ("chef-knife", "Chef knife", "kitchen", "Ironhearth", [("S", "steel", "", 8900)]),
    ("table-lamp", "Linen table lamp", "home", "Lumen", [("N", "natural", "", 7900)]),
]
#: (slug, parent)
SEARCH_CATEGORIES = [
    ("clothing", None),
    ("jackets", "clothing"),
    ("t-shirts", "clothing"),
    ("shirts", "clothing"),
    ("home", None),
    ("kitchen", "home"),
]


async def build_search_catalogue(client: httpx.AsyncClient, staff: TestUser) -> None:
    """Create the channel, categories and published products above."""
    resp = await client.post(
        "/api/v1/channels",
        headers=staff.headers,
        json={"code": "eu", "name": "EU", "currency": "eur"},
    )
    assert resp.status_code == 201, resp.text
    ids: dict[str, Any] = {}
    for slug, parent in SEARCH_CATEGORIES:
        resp = await client.post(
            "/api/v1/categories",
            headers=staff.headers,
            json={"slug": slug, "name": slug.title(), "parent_id": ids.get(parent or "")},
        )
        assert resp.status_code == 201, resp.text
        ids[slug] = resp.json()["id"]
    for slug, name, category, brand, variants in SEARCH_PRODUCTS:
        body = {
            "slug": slug,
            "name": name,
            "category_id": ids[category],
            "description": f"{name} by {brand}.",
            "attributes": {"brand": brand},
            "variants": [
                {
                    "sku": f"{slug}-{suffix}".upper(),
                    "attributes": {"colour": colour, **({"size": size} if size else {})},
                    "prices": {"eu": cents},
                }
                for suffix, colour, size, cents in variants
            ],
        }
        resp = await client.post("/api/v1/products", json=body, headers=staff.headers)
        assert resp.status_code == 201, resp.text
        published = await client.post(
            f"/api/v1/products/{resp.json()['id']}/publish", headers=staff.headers
        )
        assert published.status_code == 200, published.text


ADDRESS = {
    "name": "Ada Lovelace",
    "line1": "1 Analytical Row",
    "city": "London",
    "postcode": "N1 1AA",
    "country": "GB",
}


async def stock_variant(
    client: httpx.AsyncClient, staff: TestUser, variant_id: str, units: dict[str, int]
) -> None:
    """Receive units of a variant per warehouse code (creating missing warehouses, priority
    in the order given)."""
    for priority, (code, delta) in enumerate(units.items()):
        made = await client.post(
            "/api/v1/warehouses",
            headers=staff.headers,
            json={"code": code, "name": code.upper(), "priority": priority},
        )
        assert made.status_code in (201, 409), made.text
        resp = await client.post(
            f"/api/v1/variants/{variant_id}/stock",
            headers=staff.headers,
            json={"warehouse": code, "delta": delta},
        )
        assert resp.status_code == 200, resp.text


async def anonymous_cart(
    client: httpx.AsyncClient, variant_id: str, quantity: int = 1
) -> dict[str, str]:
    """A new anonymous cart holding ``quantity`` of a variant: its headers."""
    token = (await client.post("/api/v1/carts")).json()["token"]
    headers = {"X-Cart-Token": token}
    resp = await client.post(
        "/api/v1/cart/lines", headers=headers, json={"variant_id": variant_id, "quantity": quantity}
    )
    assert resp.status_code == 200, resp.text
    return headers


async def delivered_order(
    client: httpx.AsyncClient, staff: TestUser, customer: TestUser, variant_id: str
) -> dict[str, Any]:
    """A one-unit order of the variant by ``customer``, paid (staff confirm) and shipped in
    full: what makes a verified purchase. The variant must have stock."""
    resp = await client.post(
        "/api/v1/cart/lines", headers=customer.headers, json={"variant_id": variant_id}
    )
    assert resp.status_code == 200, resp.text
    order = await client.post(
        "/api/v1/checkout", headers=customer.headers, json={"shipping_address": ADDRESS}
    )
    assert order.status_code == 201, order.text
    oid = order.json()["id"]
    confirmed = await client.post(f"/api/v1/orders/{oid}/confirm", headers=staff.headers)
    assert confirmed.status_code == 200, confirmed.text
    line = order.json()["lines"][0]["id"]
    shipped = await client.post(
        f"/api/v1/orders/{oid}/fulfilments",
        headers=staff.headers,
        json={
            "carrier": "DHL",
            "tracking_number": f"T{oid[:8]}",
            "lines": [{"line_id": line, "quantity": 1}],
        },
    )
    assert shipped.status_code == 201, shipped.text
    fresh: dict[str, Any] = (
        await client.get(f"/api/v1/orders/{oid}", headers=staff.headers)
    ).json()
    return fresh


def app_paying_through(provider: Any) -> Any:
    """An ``app_factory`` for the kit's test fixtures: the shop without its demo catalogue,
    paying through ``provider`` (a :class:`forgekit.testing.payments.FakeProvider`)."""
    from shop.app import create_app
    from shop.settings import ShopSettings

    def build(settings: ForgeSettings) -> Any:
        return create_app(settings, ShopSettings(
            _env_file=None, demo_catalogue=False, payments_url=provider.base_url,
            payments_api_key=provider.api_key, payments_webhook_secret=provider.webhook_secret,
            # The fake is another process on a possibly busy machine: a call must not time out.
            payments_timeout_s=30,
        ))  # fmt: skip

    return build
