"""``make run APP=shop`` starts on a demo catalogue: seeded once, on the first start only."""

import asyncio
import time

import httpx
from fastapi import FastAPI
from shop.app import create_app
from shop.catalogue.models import Product
from shop.demo import PRODUCTS
from shop.settings import ShopSettings
from shop.testing import ADDRESS
from sqlalchemy import func, select

from forgekit.identity.testing import register_and_login
from forgekit.settings import ForgeSettings
from forgekit.testing.servers import free_port


async def _start(settings: ForgeSettings) -> tuple[FastAPI, int, dict[str, object]]:
    app = create_app(
        settings, ShopSettings(_env_file=None, demo_catalogue=True, payments_fake=False)
    )
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            tee = (
                await client.get(
                    "/api/v1/products/by-slug/organic-cotton-tee", params={"channel": "us"}
                )
            ).json()
        async with app.state.runtime.db.session() as session:
            count = int(await session.scalar(select(func.count()).select_from(Product)) or 0)
    return app, count, tee


async def test_demo_catalogue_is_seeded_on_first_start_only(forge_settings: ForgeSettings) -> None:
    _, first, tee = await _start(forge_settings)
    assert first == len(PRODUCTS)
    assert tee["published"] is True and len(tee["variants"]) == 6
    assert tee["variants"][0]["price"] == {"amount": 2000, "currency": "usd"}
    assert [c["slug"] for c in tee["breadcrumb"]] == ["clothing", "t-shirts"]
    _, second, _ = await _start(forge_settings)
    assert second == first


async def test_a_local_shop_pays_through_the_fake_it_starts(forge_settings: ForgeSettings) -> None:
    port = free_port()
    app = create_app(
        forge_settings, ShopSettings(_env_file=None, demo_catalogue=True, payments_fake_port=port)
    )
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            customer = await register_and_login(client)
            tee = (await client.get("/api/v1/products/by-slug/organic-cotton-tee")).json()
            variant = tee["variants"][0]["id"]
            await client.post(
                "/api/v1/cart/lines",
                headers=customer.headers,
                json={"variant_id": variant, "quantity": 2},
            )
            order = (
                await client.post(
                    "/api/v1/checkout", headers=customer.headers, json={"shipping_address": ADDRESS}
                )
            ).json()
            deadline = time.monotonic() + 60
            paid = None
            while time.monotonic() < deadline:
                paid = await client.post(
                    f"/api/v1/orders/{order['id']}/payment",
                    headers=customer.headers,
                    json={"payment_method": "pm_card_visa"},
                )
                if paid.status_code != 503:  # the fake may still be starting
                    break
                await asyncio.sleep(0.1)
            assert paid is not None and paid.status_code == 201, paid.text
            captured = await client.post(
                f"/api/v1/orders/{order['id']}/payment/capture", headers=customer.headers
            )
            assert captured.json()["captured"] == order["total"]
