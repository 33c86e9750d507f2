"""Gallery queries."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from shop.gallery.models import ProductImage


async def gallery(session: AsyncSession, product_id: uuid.UUID) -> Sequence[ProductImage]:
    """A product's images in gallery order."""
    rows = await session.execute(
        select(ProductImage)
        .where(ProductImage.product_id == product_id)
        .order_by(ProductImage.position, ProductImage.id)
    )
    return rows.scalars().all()


async def next_position(session: AsyncSession, product_id: uuid.UUID) -> tuple[int, int]:
    """How many images the product has, and the position after the last one."""
    count, top = (await session.execute(
        select(func.count(), func.max(ProductImage.position))
        .where(ProductImage.product_id == product_id)
    )).one()  # fmt: skip
    return int(count), (int(top) + 1 if top is not None else 0)


async def still_used(session: AsyncSession, keys: Sequence[str]) -> set[str]:
    """Which of the blob keys some image row still refers to (content is shared by hash)."""
    used: set[str] = set()
    for column in (ProductImage.sha256, ProductImage.thumb_small_sha256,
                   ProductImage.thumb_large_sha256):  # fmt: skip
        rows = await session.execute(select(column).where(column.in_(keys)))
        used.update(rows.scalars().all())
    return used
