"""Catalogue: staff build it, customers and anonymous visitors read what is published."""

import asyncio
import uuid
from datetime import timedelta

import httpx
from shop.catalogue.models import PriceHistory
from shop.testing import make_channel, make_product, staff_user
from sqlalchemy import func, select

from forgekit.db.base import utcnow
from forgekit.identity.testing import register_and_login
from forgekit.runtime import Runtime

PROBLEM = "application/problem+json"


async def test_products_with_variants_are_seen_once_published(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    staff = await staff_user(client, runtime)
    customer = await register_and_login(client)
    await make_channel(client, staff, "eu", "eur")
    await make_channel(client, staff, "us", "usd")
    body = {
        "slug": "rain-jacket",
        "name": "Rain jacket",
        "attributes": {"brand": "Fjord"},
        "variants": [
            {
                "sku": "RJ-Y-M",
                "attributes": {"colour": "yellow", "size": "M"},
                "weight_grams": 420,
                "prices": {"eu": 12900, "us": 13900},
            },
            {
                "sku": "RJ-Y-L",
                "attributes": {"colour": "yellow", "size": "L"},
                "weight_grams": 440,
                "prices": {"eu": 12900},
            },
        ],
    }
    # Customers may not create; an unauthenticated call is 401.
    assert (
        await client.post("/api/v1/products", json=body, headers=customer.headers)
    ).status_code == 403
    created = await client.post("/api/v1/products", json=body, headers=staff.headers)
    assert created.status_code == 201, created.text
    product = created.json()
    assert product["published"] is False
    # A draft is hidden from customers and anonymous visitors, visible to staff.
    assert (await client.get("/api/v1/products/by-slug/rain-jacket")).status_code == 404
    assert (
        await client.get("/api/v1/products/by-slug/rain-jacket", headers=customer.headers)
    ).status_code == 404
    assert (
        await client.get("/api/v1/products/by-slug/rain-jacket", headers=staff.headers)
    ).status_code == 200
    # By id: the same rules (staff manage the resource they read).
    by_id = f"/api/v1/products/{product['id']}"
    assert (await client.get(by_id, headers=customer.headers)).status_code == 404
    assert (await client.get(by_id, headers=staff.headers)).json()["slug"] == "rain-jacket"
    published = await client.post(
        f"/api/v1/products/{product['id']}/publish", headers=staff.headers
    )
    assert published.status_code == 200 and published.json()["published"] is True
    us = (await client.get("/api/v1/products/by-slug/rain-jacket", params={"channel": "us"})).json()
    assert us["channel"] == "us"
    prices = {v["sku"]: v["price"] for v in us["variants"]}
    assert prices == {"RJ-Y-L": None, "RJ-Y-M": {"amount": 13900, "currency": "usd"}}
    eu = (await client.get("/api/v1/products/by-slug/rain-jacket")).json()
    assert (await client.get(by_id)).json() == eu
    assert [v["price"]["amount"] for v in eu["variants"]] == [12900, 12900]
    assert eu["variants"][1]["attributes"] == {"colour": "yellow", "size": "M"}
    unpublished = await client.post(
        f"/api/v1/products/{product['id']}/unpublish", headers=staff.headers
    )
    assert unpublished.json()["published"] is False
    assert (await client.get("/api/v1/products/by-slug/rain-jacket")).status_code == 404


async def test_category_tree_moves_with_breadcrumbs(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    staff = await staff_user(client, runtime)

    async def category(slug: str, parent: str | None = None) -> str:
        resp = await client.post(
            "/api/v1/categories",
            headers=staff.headers,
            json={"slug": slug, "name": slug.title(), "parent_id": parent},
        )
        assert resp.status_code == 201, resp.text
        return str(resp.json()["id"])

    home = await category("home")
    kitchen = await category("kitchen", home)
    pans = await category("pans", kitchen)
    garden = await category("garden")
    crumbs = (await client.get(f"/api/v1/categories/{pans}/breadcrumb")).json()
    assert [c["slug"] for c in crumbs] == ["home", "kitchen", "pans"]
    # Moving kitchen under garden carries pans along.
    moved = await client.post(
        f"/api/v1/categories/{kitchen}/move", headers=staff.headers, json={"parent_id": garden}
    )
    assert moved.status_code == 200, moved.text
    crumbs = (await client.get(f"/api/v1/categories/{pans}/breadcrumb")).json()
    assert [c["slug"] for c in crumbs] == ["garden", "kitchen", "pans"]
    tree = (await client.get("/api/v1/categories")).json()
    assert [(n["slug"], [c["slug"] for c in n["children"]]) for n in tree] == [
        ("garden", ["kitchen"]),
        ("home", []),
    ]
    # A node cannot move below itself or its own descendants.
    for target in (kitchen, pans):
        cycle = await client.post(
            f"/api/v1/categories/{kitchen}/move", headers=staff.headers, json={"parent_id": target}
        )
        assert cycle.status_code == 409 and cycle.headers["content-type"] == PROBLEM
    missing = await client.post(
        f"/api/v1/categories/{kitchen}/move",
        headers=staff.headers,
        json={"parent_id": str(uuid.uuid4())},
    )
    assert missing.status_code == 404
    to_root = await client.post(
        f"/api/v1/categories/{pans}/move", headers=staff.headers, json={"parent_id": None}
    )
    assert to_root.json()["parent_id"] is None
    duplicate = await client.post(
        "/api/v1/categories", headers=staff.headers, json={"slug": "home", "name": "Again"}
    )
    assert duplicate.status_code == 409


async def test_price_history_and_lowest_price_of_30_days(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    staff = await staff_user(client, runtime)
    await make_channel(client, staff)
    product = await make_product(client, staff, slug="lamp", prices={"eu": 1000})
    variant = product["variants"][0]["id"]
    for amount in (800, 800, 1200):  # the repeated price is no change
        resp = await client.put(
            f"/api/v1/variants/{variant}/prices/eu", headers=staff.headers, json={"amount": amount}
        )
        assert resp.status_code == 200 and resp.json() == {"amount": amount, "currency": "eur"}
    history = (
        await client.get(f"/api/v1/variants/{variant}/prices/eu/history", headers=staff.headers)
    ).json()
    assert [h["amount"] for h in history] == [1200, 800, 1000]
    assert [h["valid_to"] is None for h in history] == [True, False, False]
    assert history[0]["changed_by"] == str(staff.id)
    # A price that ended more than 30 days ago no longer counts.
    async with runtime.db.transaction() as session:
        old = utcnow() - timedelta(days=45)
        channel_id = (await session.execute(select(PriceHistory.channel_id))).scalars().first()
        session.add(
            PriceHistory(
                variant_id=uuid.UUID(variant),
                channel_id=channel_id,
                amount=5,
                currency="eur",
                valid_from=old - timedelta(days=5),
                valid_to=old,
                open_marker=None,
            )
        )
    shown = (await client.get("/api/v1/products/by-slug/lamp")).json()["variants"][0]
    assert shown["price"] == {"amount": 1200, "currency": "eur"}
    assert shown["lowest_price_30d"] == {"amount": 800, "currency": "eur"}


async def test_concurrent_price_changes_leave_one_current_price(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    staff = await staff_user(client, runtime)
    await make_channel(client, staff)
    product = await make_product(client, staff, prices={"eu": 1000})
    variant = product["variants"][0]["id"]
    results = await asyncio.gather(
        *(
            client.put(
                f"/api/v1/variants/{variant}/prices/eu",
                headers=staff.headers,
                json={"amount": 2000 + i},
            )
            for i in range(8)
        )
    )
    assert {r.status_code for r in results} <= {200, 409}, [r.text for r in results]
    assert any(r.status_code == 200 for r in results)
    async with runtime.db.session() as session:
        open_rows = await session.scalar(
            select(func.count()).select_from(PriceHistory).where(PriceHistory.valid_to.is_(None))
        )
    assert open_rows == 1
    current = (await client.get(f"/api/v1/products/by-slug/{product['slug']}")).json()
    history = (
        await client.get(f"/api/v1/variants/{variant}/prices/eu/history", headers=staff.headers)
    ).json()
    assert current["variants"][0]["price"]["amount"] == history[0]["amount"]


async def test_bad_input_is_a_problem_and_writes_nothing(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    staff = await staff_user(client, runtime)
    await make_channel(client, staff)
    await make_product(client, staff, slug="mug")
    cases = [
        ({"slug": "mug", "name": "Mug again"}, 409),  # slug taken
        ({"slug": "cup", "name": "Cup", "variants": [{"sku": "MUG"}]}, 409),  # SKU taken
        ({"slug": "cup", "name": "Cup", "variants": [{"sku": "CUP", "prices": {"xx": 1}}]}, 404),
        ({"slug": "cup", "name": "Cup", "variants": [{"sku": "CUP", "prices": {"eu": -1}}]}, 422),
        ({"slug": "Not A Slug", "name": "x"}, 422),
        ({"slug": "cup", "name": "Cup", "category_id": str(uuid.uuid4())}, 404),
    ]
    for body, code in cases:
        resp = await client.post("/api/v1/products", json=body, headers=staff.headers)
        assert resp.status_code == code, (body, resp.text)
        assert resp.headers["content-type"] == PROBLEM
    # None of the refused products was half-written.
    assert (
        await client.get("/api/v1/products/by-slug/cup", headers=staff.headers)
    ).status_code == 404
    bad_price = await client.put(
        f"/api/v1/variants/{uuid.uuid4()}/prices/eu", headers=staff.headers, json={"amount": 5}
    )
    assert bad_price.status_code == 404


async def test_soft_deleted_products_disappear(client: httpx.AsyncClient, runtime: Runtime) -> None:
    staff = await staff_user(client, runtime)
    await make_channel(client, staff)
    product = await make_product(client, staff, slug="kettle")
    gone = await client.delete(f"/api/v1/products/{product['id']}", headers=staff.headers)
    assert gone.status_code == 204
    for headers in ({}, staff.headers):
        assert (
            await client.get("/api/v1/products/by-slug/kettle", headers=headers)
        ).status_code == 404
    again = await client.post(f"/api/v1/products/{product['id']}/publish", headers=staff.headers)
    assert again.status_code == 404
    # The slug stays taken: old orders and links still name it.
    reuse = await client.post(
        "/api/v1/products", json={"slug": "kettle", "name": "K"}, headers=staff.headers
    )
    assert reuse.status_code == 409


async def test_every_product_url_has_one_meaning(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    # Slugs that spell the product routes' last segment: found by slug, never taken for an id.
    staff = await staff_user(client, runtime)
    await make_channel(client, staff)
    for slug in ("publish", "images"):
        product = await make_product(client, staff, slug=slug)
        shown = await client.get(f"/api/v1/products/by-slug/{slug}")
        assert shown.status_code == 200 and shown.json()["id"] == product["id"], shown.text
    # The storefront path is read-only: any other method is 405, not "not a UUID".
    for method in ("PATCH", "DELETE", "POST"):
        for path in ("/api/v1/products/by-slug/mug", "/api/v1/products/by-slug/publish"):
            resp = await client.request(method, path, json={}, headers=staff.headers)
            assert resp.status_code == 405, (method, path, resp.text)
    # Not a UUID: no such product.
    assert (await client.get("/api/v1/products/mug", headers=staff.headers)).status_code == 404
