"""``make run APP=shop`` starts on a demo catalogue: seeded once, on the first start only."""

import httpx
from fastapi import FastAPI
from shop.app import create_app
from shop.catalogue.models import Product
from shop.demo import PRODUCTS
from shop.settings import ShopSettings
from sqlalchemy import func, select

from forgekit.settings import ForgeSettings


async def _start(settings: ForgeSettings) -> tuple[FastAPI, int, dict[str, object]]:
    app = create_app(settings, ShopSettings(_env_file=None, demo_catalogue=True))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            tee = (await client.get("/api/v1/products/organic-cotton-tee",
                                    params={"channel": "us"})).json()  # fmt: skip
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
