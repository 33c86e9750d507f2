"""The demo catalogue ``make run APP=shop`` starts with: two channels (EUR, USD), a small
category tree, ten published products with variants and prices, and a warehouse holding
``DEMO_STOCK`` units of each variant.

Seeded by the API at start-up when ``SHOP_DEMO_CATALOGUE`` is on (the default) and the shop
has no channel yet. Several processes may start at once: the channel code's unique constraint
lets exactly one of them seed; the others see the conflict and leave it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from forgekit.errors import Conflict
from shop.catalogue.models import Channel
from shop.catalogue.repository import ChannelRepository, ProductRepository
from shop.catalogue.schemas import CategoryCreate, ChannelCreate, ProductCreate, VariantCreate
from shop.catalogue.service import categories, channels, products
from shop.inventory.schemas import WarehouseCreate
from shop.inventory.service import inventory

log = logging.getLogger("shop.demo")

#: Units of every demo variant in the demo warehouse.
DEMO_STOCK = 25
CHANNELS = [("eu", "Europe", "eur"), ("us", "United States", "usd")]
#: (slug, name, parent slug)
CATEGORIES = [
    ("clothing", "Clothing", None),
    ("t-shirts", "T-shirts", "clothing"),
    ("jackets", "Jackets", "clothing"),
    ("home", "Home", None),
    ("kitchen", "Kitchen", "home"),
    ("lighting", "Lighting", "home"),
]
_SIZES = ("S", "M", "L")
#: (slug, name, category, description, brand, colours, EUR cents, grams, sized)
PRODUCTS: list[tuple[str, str, str, str, str, tuple[str, ...], int, int, bool]] = [
    (
        "organic-cotton-tee",
        "Organic cotton T-shirt",
        "t-shirts",
        "A soft organic cotton tee with a relaxed fit.",
        "Fjordwear",
        ("white", "black"),
        1900,
        180,
        True,
    ),
    (
        "merino-wool-tee",
        "Merino wool T-shirt",
        "t-shirts",
        "Fine merino wool: warm, breathable, odour resistant.",
        "Fjordwear",
        ("grey", "navy"),
        5900,
        160,
        True,
    ),
    (
        "striped-breton-tee",
        "Striped Breton T-shirt",
        "t-shirts",
        "The classic striped shirt of French sailors.",
        "Marin",
        ("blue",),
        2900,
        200,
        True,
    ),
    (
        "rain-shell-jacket",
        "Rain shell jacket",
        "jackets",
        "Waterproof, windproof and packable rain jacket.",
        "Fjordwear",
        ("yellow", "green"),
        12900,
        420,
        True,
    ),
    (
        "down-puffer-jacket",
        "Down puffer jacket",
        "jackets",
        "Warm down jacket for cold winter days.",
        "Nordpol",
        ("black",),
        19900,
        650,
        True,
    ),
    (
        "cast-iron-skillet",
        "Cast iron skillet",
        "kitchen",
        "A pre-seasoned cast iron pan for searing and baking.",
        "Ironhearth",
        ("black",),
        4500,
        2300,
        False,
    ),
    (
        "chef-knife",
        "Chef knife 20 cm",
        "kitchen",
        "A forged stainless steel chef knife.",
        "Ironhearth",
        ("steel",),
        8900,
        250,
        False,
    ),
    (
        "espresso-cups",
        "Espresso cups (set of 4)",
        "kitchen",
        "Porcelain espresso cups, dishwasher safe.",
        "Marin",
        ("white", "blue"),
        2400,
        400,
        False,
    ),
    (
        "linen-table-lamp",
        "Linen table lamp",
        "lighting",
        "A table lamp with a linen shade and an oak base.",
        "Lumen",
        ("natural",),
        7900,
        1800,
        False,
    ),
    (
        "brass-pendant-light",
        "Brass pendant light",
        "lighting",
        "A brushed brass pendant lamp for dining tables.",
        "Lumen",
        ("brass",),
        14900,
        1200,
        False,
    ),
]


@dataclass
class DemoCatalogue:
    """A start-up service seeding the demo catalogue once (see the module docstring)."""

    runtime: Any
    consumer_group: str | None = None

    async def start(self) -> None:
        """Seed when the shop is empty (returns promptly: a few dozen rows)."""
        try:
            async with self.runtime.db.session() as session:
                if await ChannelRepository(session).listed():
                    return
                await seed(session)
        except Conflict:
            log.info("demo catalogue: another process seeds it")
            return
        log.info("demo catalogue seeded: %d products", len(PRODUCTS))

    async def stop(self) -> None:
        """Nothing runs after start."""


async def seed(session: Any) -> list[Channel]:
    """Create the demo channels, categories and published products (commits as it goes)."""
    made = [
        await channels.create(session, ChannelCreate(code=c, name=n, currency=cur))
        for c, n, cur in CHANNELS
    ]
    warehouse = await inventory.create_warehouse(
        session, WarehouseCreate(code="main", name="Main warehouse", priority=0)
    )
    by_slug: dict[str, Any] = {}
    for slug, name, parent in CATEGORIES:
        parent_id = by_slug[parent].id if parent else None
        by_slug[slug] = await categories.create(
            session, CategoryCreate(slug=slug, name=name, parent_id=parent_id)
        )
    for slug, name, cat, description, brand, colours, cents, grams, sized in PRODUCTS:
        product = await products.create(
            session,
            None,
            ProductCreate(
                slug=slug,
                name=name,
                description=description,
                category_id=by_slug[cat].id,
                attributes={"brand": brand},
                variants=_variants(slug, colours, cents, grams, sized),
            ),
        )
        await products.set_published(session, None, product.id, True)
        for variant in await ProductRepository(session).variants(product.id):
            await inventory.adjust(session, variant.id, warehouse.code, DEMO_STOCK)
    return made


def _variants(
    slug: str, colours: tuple[str, ...], cents: int, grams: int, sized: bool
) -> list[VariantCreate]:
    out = []
    for colour in colours:
        for size in _SIZES if sized else ("",):
            attributes = {"colour": colour, "size": size} if size else {"colour": colour}
            out.append(
                VariantCreate(
                    sku="-".join(x for x in (slug[:40], colour, size) if x).upper(),
                    name=" / ".join(x for x in (colour, size) if x),
                    attributes=attributes,
                    weight_grams=grams,
                    # USD: the euro figure plus one (a demo, not an exchange rate).
                    prices={"eu": cents, "us": cents + 100},
                )
            )
    return out


def register(runtime: Any) -> None:
    """Add the demo seeding to an API's runtime when the product's settings ask for it."""
    if runtime.app_settings.demo_catalogue:
        runtime.services.append(DemoCatalogue(runtime))
