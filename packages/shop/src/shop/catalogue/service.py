"""Catalogue rules: channels, the category tree, products, variants and prices.

Uniqueness (slugs, SKUs, one current price) is the database's job: an insert that breaks it
is answered 409, never checked first. A price change closes the open history row with a
conditional update and opens the next; two concurrent changes cannot both stay current.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from forgekit.db.base import utcnow
from forgekit.errors import Conflict, NotFound, Unprocessable
from forgekit.events.outbox import enqueue
from shop.catalogue.models import Category, Channel, PriceHistory, Product, Variant, VariantPrice
from shop.catalogue.repository import (
    CategoryRepository,
    ChannelRepository,
    PriceRepository,
    ProductRepository,
)
from shop.catalogue.schemas import (
    CategoryCreate,
    CategoryNode,
    CategoryRead,
    ChannelCreate,
    Money,
    PricePoint,
    ProductCreate,
    ProductRead,
    ProductUpdate,
    VariantCreate,
    VariantRead,
)
from shop.events import (
    PRICE_CHANGED,
    PRODUCT_DELETED,
    PRODUCT_PUBLISHED,
    PRODUCT_UNPUBLISHED,
    PriceChanged,
    ProductEvent,
)

#: The EU price-indication rule's window for the prior price.
PRIOR_PRICE_WINDOW = timedelta(days=30)
PRODUCT_NOT_FOUND = "Product not found."


async def _write_unique(session: AsyncSession, conflict: str, *, commit: bool) -> None:
    """Flush (or commit); a broken unique constraint is a 409 with ``conflict``."""
    try:
        await (session.commit() if commit else session.flush())
    except IntegrityError:
        await session.rollback()
        raise Conflict(conflict) from None


async def _commit_unique(session: AsyncSession, conflict: str) -> None:
    await _write_unique(session, conflict, commit=True)


async def _flush_unique(session: AsyncSession, conflict: str) -> None:
    await _write_unique(session, conflict, commit=False)


async def channel_by_code(session: AsyncSession, code: str) -> Channel:
    """The channel ``code`` (404 when unknown)."""
    channel = await ChannelRepository(session).by_code(code)
    if channel is None:
        raise NotFound(f"Unknown channel {code!r}.")
    return channel


class ChannelService:
    """Sales channels."""

    async def create(self, session: AsyncSession, data: ChannelCreate) -> Channel:
        """A new channel (409 when the code is taken). Commits."""
        channel = Channel(code=data.code, name=data.name, currency=data.currency)
        session.add(channel)
        await _commit_unique(session, "A channel with this code exists.")
        return channel

    async def default(self, session: AsyncSession) -> Channel:
        """The first channel by code (what a request naming none sees)."""
        listed = await ChannelRepository(session).listed()
        if not listed:
            raise NotFound("The shop has no sales channel yet.")
        return listed[0]


class CategoryService:
    """The category tree."""

    async def create(self, session: AsyncSession, data: CategoryCreate) -> Category:
        """A category under ``parent_id`` (404 for an unknown parent). Commits."""
        if data.parent_id is not None and await session.get(Category, data.parent_id) is None:
            raise NotFound("Parent category not found.")
        category = Category(slug=data.slug, name=data.name, parent_id=data.parent_id)
        session.add(category)
        await _commit_unique(session, "A category with this slug exists.")
        return category

    async def tree(self, session: AsyncSession) -> list[CategoryNode]:
        """The whole tree, roots first, children by name."""
        nodes = {
            c.id: CategoryNode.model_validate(c) for c in await CategoryRepository(session).every()
        }
        roots: list[CategoryNode] = []
        for node in nodes.values():
            parent = nodes.get(node.parent_id) if node.parent_id else None
            (parent.children if parent else roots).append(node)
        return roots

    async def breadcrumb(self, session: AsyncSession, category_id: uuid.UUID) -> list[CategoryRead]:
        """Root-to-node path of a category (404 when unknown)."""
        path = await CategoryRepository(session).ancestors(category_id)
        if not path:
            raise NotFound("Category not found.")
        return [CategoryRead.model_validate(c) for c in path]

    async def move(
        self, session: AsyncSession, category_id: uuid.UUID, parent_id: uuid.UUID | None
    ) -> Category:
        """Re-parent a category with its sub-tree; 409 when the new parent lies inside it.

        On PostgreSQL moves take a transaction-scoped advisory lock, so two concurrent moves
        cannot each pass the cycle check against the other's old tree (SQLite serialises
        writers already). Commits.
        """
        repo = CategoryRepository(session)
        if session.get_bind().dialect.name == "postgresql":
            await session.execute(text("SELECT pg_advisory_xact_lock(hashtext('shop_categories'))"))
        category = await session.get(Category, category_id)
        if category is None:
            raise NotFound("Category not found.")
        if parent_id is not None:
            path = await repo.ancestors(parent_id)
            if not path:
                raise NotFound("Parent category not found.")
            if any(c.id == category_id for c in path):
                raise Conflict("A category cannot move below itself.")
        category.parent_id = parent_id
        await session.commit()
        return category


class ProductService:
    """Products, variants, prices, publication and soft deletion."""

    async def create(
        self, session: AsyncSession, actor: uuid.UUID | None, data: ProductCreate
    ) -> Product:
        """A draft product with its variants and their first prices, in one transaction."""
        product = await self.add(session, actor, data)
        await session.commit()
        return product

    async def add(
        self, session: AsyncSession, actor: uuid.UUID | None, data: ProductCreate
    ) -> Product:
        """:meth:`create` in the caller's transaction (flushed, not committed); a taken slug
        or SKU rolls the transaction back and raises 409."""
        await _check_category(session, data.category_id)
        product = Product(
            slug=data.slug,
            name=data.name,
            description=data.description,
            category_id=data.category_id,
            attributes=dict(data.attributes),
        )
        session.add(product)
        await _flush_unique(session, "A product with this slug exists.")
        for variant in data.variants:
            await self._add_variant(session, actor, product, variant)
        return product

    async def add_variant(
        self,
        session: AsyncSession,
        actor: uuid.UUID | None,
        product_id: uuid.UUID,
        data: VariantCreate,
    ) -> Variant:
        """A new variant of a live product. Commits."""
        product = await self.get(session, product_id)
        variant = await self._add_variant(session, actor, product, data)
        await session.commit()
        return variant

    async def _add_variant(
        self, session: AsyncSession, actor: uuid.UUID | None, product: Product, data: VariantCreate
    ) -> Variant:
        variant = Variant(
            product_id=product.id,
            sku=data.sku,
            name=data.name,
            attributes=dict(data.attributes),
            weight_grams=data.weight_grams,
        )
        session.add(variant)
        await _flush_unique(session, f"SKU {data.sku!r} exists.")
        for code, amount in data.prices.items():
            channel = await channel_by_code(session, code)
            await _set_price(session, actor, variant, channel, amount)
        return variant

    async def get(
        self, session: AsyncSession, product_id: uuid.UUID, *, include_deleted: bool = False
    ) -> Product:
        """A product by id (404 when unknown or deleted)."""
        product = await ProductRepository(session).get(product_id, include_deleted=include_deleted)
        if product is None:
            raise NotFound(PRODUCT_NOT_FOUND)
        return product

    async def update(
        self, session: AsyncSession, product_id: uuid.UUID, data: ProductUpdate
    ) -> Product:
        """Replace the fields given. Commits."""
        product = await self.get(session, product_id)
        fields = data.model_dump(exclude_unset=True)
        if "category_id" in fields:
            await _check_category(session, data.category_id)
        for name, value in fields.items():
            if name in ("name", "description", "attributes") and value is None:
                raise Unprocessable(f"{name} cannot be null.")
            setattr(product, name, value)
        await session.commit()
        return product

    async def set_published(
        self, session: AsyncSession, actor: uuid.UUID | None, product_id: uuid.UUID, published: bool
    ) -> Product:
        """Publish or unpublish (idempotent: no event when nothing changes). Commits."""
        product = await self.get(session, product_id)
        if (product.published_at is not None) != published:
            product.published_at = utcnow() if published else None
            await enqueue(
                session,
                PRODUCT_PUBLISHED if published else PRODUCT_UNPUBLISHED,
                ProductEvent(product_id=product.id, slug=product.slug),
                metadata=_actor(actor),
            )
        await session.commit()
        return product

    async def delete(
        self, session: AsyncSession, actor: uuid.UUID | None, product_id: uuid.UUID
    ) -> None:
        """Soft-delete (hidden everywhere; orders keep pointing at it). Commits."""
        product = await self.get(session, product_id)
        product.deleted_at = utcnow()
        product.published_at = None
        await enqueue(
            session,
            PRODUCT_DELETED,
            ProductEvent(product_id=product.id, slug=product.slug),
            metadata=_actor(actor),
        )
        await session.commit()

    async def set_price(
        self,
        session: AsyncSession,
        actor: uuid.UUID | None,
        variant_id: uuid.UUID,
        channel_code: str,
        amount: int,
    ) -> Money:
        """A variant's new price in a channel (history kept). Commits; 409 on a race."""
        variant = await _live_variant(session, variant_id)
        channel = await channel_by_code(session, channel_code)
        await _set_price(session, actor, variant, channel, amount)
        await _commit_unique(session, "The price changed concurrently; try again.")
        return Money(amount=amount, currency=channel.currency)

    async def price_history(
        self, session: AsyncSession, variant_id: uuid.UUID, channel_code: str
    ) -> list[PricePoint]:
        """Every price of a variant in a channel, newest first."""
        variant = await _live_variant(session, variant_id)
        channel = await channel_by_code(session, channel_code)
        rows = await PriceRepository(session).history(variant.id, channel.id)
        return [_price_point(r) for r in rows]

    async def read(self, session: AsyncSession, product: Product, channel: Channel) -> ProductRead:
        """A product with its variants priced in ``channel``."""
        variants = await ProductRepository(session).variants(product.id)
        ids = [v.id for v in variants]
        prices = PriceRepository(session)
        current = await prices.current(ids, channel.id)
        lowest = await prices.lowest_since(ids, channel.id, utcnow() - PRIOR_PRICE_WINDOW)
        crumbs = (
            await CategoryRepository(session).ancestors(product.category_id)
            if (product.category_id)
            else []
        )
        return ProductRead(
            id=product.id,
            slug=product.slug,
            name=product.name,
            description=product.description,
            category_id=product.category_id,
            breadcrumb=[CategoryRead.model_validate(c) for c in crumbs],
            attributes=product.attributes,
            published=product.published_at is not None,
            published_at=product.published_at,
            deleted=product.deleted_at is not None,
            created_at=product.created_at,
            channel=channel.code,
            variants=[
                _variant_read(v, current.get(v.id), lowest.get(v.id), channel) for v in variants
            ],
        )


def _variant_read(
    variant: Variant, price: VariantPrice | None, lowest: int | None, channel: Channel
) -> VariantRead:
    return VariantRead(
        id=variant.id,
        sku=variant.sku,
        name=variant.name,
        attributes=variant.attributes,
        weight_grams=variant.weight_grams,
        price=Money(amount=price.amount, currency=price.currency) if price else None,
        lowest_price_30d=(
            Money(amount=lowest, currency=channel.currency) if lowest is not None else None
        ),
    )


def _price_point(row: PriceHistory) -> PricePoint:
    return PricePoint(
        amount=row.amount,
        currency=row.currency,
        valid_from=row.valid_from,
        valid_to=row.valid_to,
        changed_by=row.changed_by,
    )


async def _check_category(session: AsyncSession, category_id: uuid.UUID | None) -> None:
    if category_id is not None and await session.get(Category, category_id) is None:
        raise NotFound("Category not found.")


async def _live_variant(session: AsyncSession, variant_id: uuid.UUID) -> Variant:
    variant = await session.get(Variant, variant_id)
    if variant is None or variant.deleted_at is not None:
        raise NotFound("Variant not found.")
    return variant


async def _set_price(
    session: AsyncSession, actor: uuid.UUID | None, variant: Variant, channel: Channel, amount: int
) -> None:
    """Close the current history row, open the next and update the current price (flushed,
    not committed). Nothing changes when the price is the same."""
    current = await session.get(VariantPrice, (variant.id, channel.id))
    previous = current.amount if current else None
    if previous == amount:
        return
    now = utcnow()
    await PriceRepository(session).close_current(variant.id, channel.id, now)
    session.add(
        PriceHistory(
            variant_id=variant.id,
            channel_id=channel.id,
            amount=amount,
            currency=channel.currency,
            valid_from=now,
            open_marker=1,
            changed_by=actor,
        )
    )
    if current is None:
        session.add(
            VariantPrice(
                variant_id=variant.id,
                channel_id=channel.id,
                amount=amount,
                currency=channel.currency,
            )
        )
    else:
        current.amount = amount
    await enqueue(
        session,
        PRICE_CHANGED,
        PriceChanged(
            variant_id=variant.id,
            channel=channel.code,
            amount=amount,
            currency=channel.currency,
            previous=previous,
        ),
        metadata=_actor(actor),
    )
    await _flush_unique(session, "The price changed concurrently; try again.")


def _actor(actor: uuid.UUID | None) -> dict[str, str]:
    return {"actor_id": str(actor)} if actor else {}


channels = ChannelService()
categories = CategoryService()
products = ProductService()
