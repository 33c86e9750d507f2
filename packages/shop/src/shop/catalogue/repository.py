"""Catalogue queries: the category tree (recursive CTEs, the same SQL on both databases),
products with their variants, current prices and price history."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, literal, or_, select, update

from forgekit.db.repository import Repository
from shop.catalogue.models import Category, Channel, PriceHistory, Product, Variant, VariantPrice


class ChannelRepository(Repository[Channel]):
    """Sales channels."""

    model = Channel

    async def by_code(self, code: str) -> Channel | None:
        """The channel named ``code``."""
        return await self.one_or_none(select(Channel).where(Channel.code == code))

    async def listed(self) -> Sequence[Channel]:
        """Every channel by code."""
        return await self.all(select(Channel).order_by(Channel.code))


class CategoryRepository(Repository[Category]):
    """The category tree."""

    model = Category

    async def every(self) -> Sequence[Category]:
        """Every category, by name."""
        return await self.all(select(Category).order_by(Category.name, Category.id))

    async def ancestors(self, category_id: uuid.UUID) -> list[Category]:
        """The path from the root down to ``category_id`` (inclusive)."""
        up = (
            select(Category.id, Category.parent_id, literal(0).label("depth"))
            .where(Category.id == category_id)
            .cte("up", recursive=True)
        )
        up = up.union_all(
            select(Category.id, Category.parent_id, (up.c.depth + 1).label("depth")).join(
                up, Category.id == up.c.parent_id
            )
        )
        rows = await self.session.execute(
            select(Category, up.c.depth).join(up, up.c.id == Category.id).order_by(up.c.depth)
        )
        return [c for c, _ in reversed(rows.all())]

    async def subtree_ids(self, category_id: uuid.UUID) -> list[uuid.UUID]:
        """``category_id`` and every category below it."""
        down = select(Category.id).where(Category.id == category_id).cte("down", recursive=True)
        down = down.union_all(select(Category.id).join(down, Category.parent_id == down.c.id))
        return list((await self.session.execute(select(down.c.id))).scalars().all())


class ProductRepository(Repository[Product]):
    """Products and their variants."""

    model = Product

    async def by_slug(self, slug: str, *, include_deleted: bool = False) -> Product | None:
        """The product with this slug."""
        stmt = self.select_all(include_deleted=include_deleted).where(Product.slug == slug)
        return await self.one_or_none(stmt)

    async def variants(self, product_id: uuid.UUID) -> Sequence[Variant]:
        """A product's live variants by SKU."""
        return (
            (
                await self.session.execute(
                    select(Variant)
                    .where(Variant.product_id == product_id, Variant.deleted_at.is_(None))
                    .order_by(Variant.sku)
                )
            )
            .scalars()
            .all()
        )


class PriceRepository(Repository[PriceHistory]):
    """Current prices and their history."""

    model = PriceHistory

    async def current(
        self, variant_ids: Sequence[uuid.UUID], channel_id: uuid.UUID
    ) -> dict[uuid.UUID, VariantPrice]:
        """The current price of each variant in a channel."""
        rows = await self.session.execute(
            select(VariantPrice).where(
                VariantPrice.variant_id.in_(variant_ids), VariantPrice.channel_id == channel_id
            )
        )
        return {p.variant_id: p for p in rows.scalars().all()}

    async def lowest_since(
        self, variant_ids: Sequence[uuid.UUID], channel_id: uuid.UUID, since: datetime
    ) -> dict[uuid.UUID, int]:
        """The lowest price each variant had at any moment from ``since`` until now."""
        rows = await self.session.execute(
            select(PriceHistory.variant_id, func.min(PriceHistory.amount))
            .where(
                PriceHistory.variant_id.in_(variant_ids),
                PriceHistory.channel_id == channel_id,
                or_(PriceHistory.valid_to.is_(None), PriceHistory.valid_to > since),
            )
            .group_by(PriceHistory.variant_id)
        )
        return {vid: int(amount) for vid, amount in rows.all()}

    async def close_current(
        self, variant_id: uuid.UUID, channel_id: uuid.UUID, at: datetime
    ) -> int:
        """Close the open history row (a conditional update: no read first). Returns rows."""
        result = await self.session.execute(
            update(PriceHistory)
            .where(
                PriceHistory.variant_id == variant_id,
                PriceHistory.channel_id == channel_id,
                PriceHistory.open_marker == 1,
            )
            .values(valid_to=at, open_marker=None)
        )
        return int(result.rowcount)  # type: ignore[attr-defined]

    async def history(self, variant_id: uuid.UUID, channel_id: uuid.UUID) -> Sequence[PriceHistory]:
        """Every price of a variant in a channel, newest first."""
        return await self.all(
            select(PriceHistory)
            .where(PriceHistory.variant_id == variant_id, PriceHistory.channel_id == channel_id)
            .order_by(PriceHistory.valid_from.desc(), PriceHistory.id)
        )
