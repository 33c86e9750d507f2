"""The catalogue over HTTP: staff manage it, anyone reads what is published."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query, status
from sqlalchemy.ext.asyncio import AsyncSession

from forgekit.deps import SessionDep
from forgekit.errors import NotFound
from forgekit.identity.deps import OptionalPrincipal, require_scopes
from forgekit.identity.principal import Principal
from shop.analytics.models import EventKind
from shop.analytics.service import record, visitor_of
from shop.catalogue.models import Channel, Product
from shop.catalogue.repository import ChannelRepository, ProductRepository
from shop.catalogue.schemas import (
    CategoryCreate,
    CategoryMove,
    CategoryNode,
    CategoryRead,
    ChannelCode,
    ChannelCreate,
    ChannelRead,
    Money,
    PricePoint,
    PriceSet,
    ProductCreate,
    ProductRead,
    ProductUpdate,
    VariantCreate,
    VariantRead,
)
from shop.catalogue.service import (
    PRODUCT_NOT_FOUND,
    categories,
    channel_by_code,
    channels,
    products,
)
from shop.paths import PRODUCT_ID
from shop.permissions import Permission

router = APIRouter(prefix="/api/v1", tags=["catalogue"])

Staff = Annotated[Principal, Depends(require_scopes(Permission.CATALOGUE_MANAGE))]
ChannelQuery = Annotated[ChannelCode | None, Query(description="Channel code (default: first).")]
CartToken = Annotated[str | None, Header(alias="X-Cart-Token", max_length=64)]


@router.post("/channels", status_code=status.HTTP_201_CREATED)
async def create_channel(data: ChannelCreate, _: Staff, session: SessionDep) -> ChannelRead:
    """Add a sales channel with its currency (staff)."""
    return ChannelRead.model_validate(await channels.create(session, data))


@router.get("/channels")
async def list_channels(session: SessionDep) -> list[ChannelRead]:
    """Every sales channel (public)."""
    return [ChannelRead.model_validate(c) for c in await ChannelRepository(session).listed()]


@router.post("/categories", status_code=status.HTTP_201_CREATED)
async def create_category(data: CategoryCreate, _: Staff, session: SessionDep) -> CategoryRead:
    """Add a category, at the root or under a parent (staff)."""
    return CategoryRead.model_validate(await categories.create(session, data))


@router.get("/categories")
async def category_tree(session: SessionDep) -> list[CategoryNode]:
    """The category tree (public)."""
    return await categories.tree(session)


@router.get("/categories/{category_id}/breadcrumb")
async def breadcrumb(category_id: uuid.UUID, session: SessionDep) -> list[CategoryRead]:
    """The path from the root to a category (public)."""
    return await categories.breadcrumb(session, category_id)


@router.post("/categories/{category_id}/move")
async def move_category(
    category_id: uuid.UUID, data: CategoryMove, _: Staff, session: SessionDep
) -> CategoryRead:
    """Move a category and its sub-tree under another parent (staff)."""
    return CategoryRead.model_validate(await categories.move(session, category_id, data.parent_id))


@router.post("/products", status_code=status.HTTP_201_CREATED)
async def create_product(
    data: ProductCreate, principal: Staff, session: SessionDep, channel: ChannelQuery = None
) -> ProductRead:
    """Create a draft product with its variants and prices (staff)."""
    product = await products.create(session, principal.user_id, data)
    return await products.read(session, product, await _channel(session, channel))


@router.get("/products/by-slug/{slug}")
async def get_product_by_slug(
    slug: str,
    principal: OptionalPrincipal,
    session: SessionDep,
    channel: ChannelQuery = None,
    x_cart_token: CartToken = None,
) -> ProductRead:
    """The storefront's product page: a published product by its slug, priced in a channel
    (public); staff also see drafts. A view of a published product is recorded for the
    funnel (send the anonymous cart's ``X-Cart-Token`` so that an anonymous visitor's views
    count)."""
    product = await ProductRepository(session).by_slug(slug)
    return await _shown(session, product, principal, channel, x_cart_token)


@router.get(f"/products/{PRODUCT_ID}")
async def get_product(
    product_id: uuid.UUID,
    principal: OptionalPrincipal,
    session: SessionDep,
    channel: ChannelQuery = None,
    x_cart_token: CartToken = None,
) -> ProductRead:
    """A product by id, the same rules as by slug: published for anyone, drafts for staff
    (the resource that ``PATCH`` and ``DELETE`` change)."""
    product = await ProductRepository(session).get(product_id)
    return await _shown(session, product, principal, channel, x_cart_token)


async def _shown(
    session: AsyncSession,
    product: Product | None,
    principal: Principal | None,
    channel: str | None,
    cart_token: str | None,
) -> ProductRead:
    staff = principal is not None and principal.has(Permission.CATALOGUE_MANAGE)
    if product is None or (product.published_at is None and not staff):
        raise NotFound(PRODUCT_NOT_FOUND)
    read = await products.read(session, product, await _channel(session, channel))
    if product.published_at is not None:
        customer = principal.user_id if principal else None
        await record(session, EventKind.VIEWED, visitor_of(principal, cart_token),
                     customer_id=customer, product_id=product.id)  # fmt: skip
    return read


@router.patch(f"/products/{PRODUCT_ID}")
async def update_product(
    product_id: uuid.UUID,
    data: ProductUpdate,
    _: Staff,
    session: SessionDep,
    channel: ChannelQuery = None,
) -> ProductRead:
    """Change a product's name, description, category or attributes (staff)."""
    product = await products.update(session, product_id, data)
    return await products.read(session, product, await _channel(session, channel))


@router.post(f"/products/{PRODUCT_ID}/variants", status_code=status.HTTP_201_CREATED)
async def add_variant(
    product_id: uuid.UUID, data: VariantCreate, principal: Staff, session: SessionDep
) -> VariantRead:
    """Add a variant with its prices (staff)."""
    variant = await products.add_variant(session, principal.user_id, product_id, data)
    return VariantRead(
        id=variant.id,
        sku=variant.sku,
        name=variant.name,
        attributes=variant.attributes,
        weight_grams=variant.weight_grams,
        price=None,
        lowest_price_30d=None,
    )


@router.post(f"/products/{PRODUCT_ID}/publish")
async def publish(
    product_id: uuid.UUID, principal: Staff, session: SessionDep, channel: ChannelQuery = None
) -> ProductRead:
    """Publish a product (staff)."""
    product = await products.set_published(session, principal.user_id, product_id, True)
    return await products.read(session, product, await _channel(session, channel))


@router.post(f"/products/{PRODUCT_ID}/unpublish")
async def unpublish(
    product_id: uuid.UUID, principal: Staff, session: SessionDep, channel: ChannelQuery = None
) -> ProductRead:
    """Take a product off the storefront (staff)."""
    product = await products.set_published(session, principal.user_id, product_id, False)
    return await products.read(session, product, await _channel(session, channel))


@router.delete(f"/products/{PRODUCT_ID}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_product(product_id: uuid.UUID, principal: Staff, session: SessionDep) -> None:
    """Soft-delete a product (staff)."""
    await products.delete(session, principal.user_id, product_id)


@router.put("/variants/{variant_id}/prices/{channel_code}")
async def set_price(
    variant_id: uuid.UUID,
    channel_code: ChannelCode,
    data: PriceSet,
    principal: Staff,
    session: SessionDep,
) -> Money:
    """Set a variant's price in a channel; the old one stays in the history (staff)."""
    return await products.set_price(
        session, principal.user_id, variant_id, channel_code, data.amount
    )


@router.get("/variants/{variant_id}/prices/{channel_code}/history")
async def price_history(
    variant_id: uuid.UUID, channel_code: ChannelCode, _: Staff, session: SessionDep
) -> list[PricePoint]:
    """Every price a variant had in a channel, newest first (staff)."""
    return await products.price_history(session, variant_id, channel_code)


async def _channel(session: AsyncSession, code: str | None) -> Channel:
    return await channel_by_code(session, code) if code else await channels.default(session)
