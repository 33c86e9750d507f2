"""Product galleries: upload (checked and cleaned before anything is stored), list with
signed links, reorder, delete.

Blobs are content-addressed in the kit's object storage (a local directory embedded, S3 when
configured): the same picture uploaded twice is stored once, and a blob is removed only when
no image row refers to it any more.
"""

from __future__ import annotations

import asyncio
import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from forgekit.errors import NotFound, Unprocessable
from forgekit.storage import ObjectStorage
from shop.catalogue.service import products
from shop.gallery import repository
from shop.gallery.images import Limits, clean
from shop.gallery.models import ProductImage
from shop.gallery.schemas import ImageRead
from shop.settings import ShopSettings

#: Lifetime of the signed links in a listing.
URL_TTL_S = 3600
IMAGE_NOT_FOUND = "Image not found."


def limits_of(settings: ShopSettings) -> Limits:
    """The upload bounds configured for the shop."""
    return Limits(settings.image_max_bytes, settings.image_max_pixels,
                  settings.image_thumb_small_px, settings.image_thumb_large_px)  # fmt: skip


async def image_read(storage: ObjectStorage, image: ProductImage) -> ImageRead:
    """An image with signed links to the original and both thumbnails."""
    url, small, large = await asyncio.gather(
        storage.download_url(image.sha256, URL_TTL_S),
        storage.download_url(image.thumb_small_sha256, URL_TTL_S),
        storage.download_url(image.thumb_large_sha256, URL_TTL_S),
    )
    return ImageRead(
        id=image.id, position=image.position, sha256=image.sha256,
        content_type=image.content_type, width=image.width, height=image.height,
        size_bytes=image.size_bytes, alt=image.alt, url=url, thumb_small_url=small,
        thumb_large_url=large,
    )  # fmt: skip


class GalleryService:
    """Upload, list, reorder, delete."""

    async def upload(
        self, session: AsyncSession, storage: ObjectStorage, settings: ShopSettings,
        product_id: uuid.UUID, data: bytes, alt: str,
    ) -> ImageRead:  # fmt: skip
        """Check and clean the image, store it and its thumbnails, append it to the gallery.
        Commits. Every refusal (404, 413, 415, 422) happens before anything is stored."""
        await products.get(session, product_id)
        count, _ = await repository.next_position(session, product_id)
        if count >= settings.product_max_images:
            raise Unprocessable(f"A product has at most {settings.product_max_images} images.")
        # End the read transaction before the CPU work (SQLite: it would hold the write lock).
        await session.rollback()
        image = await asyncio.to_thread(clean, data, limits_of(settings))
        original, small, large = await asyncio.gather(
            storage.put_bytes(image.data, content_type=image.content_type),
            storage.put_bytes(image.thumb_small, content_type="image/webp"),
            storage.put_bytes(image.thumb_large, content_type="image/webp"),
        )
        await products.get(session, product_id)  # deleted meanwhile: 404
        _, position = await repository.next_position(session, product_id)
        row = ProductImage(
            product_id=product_id, position=position, sha256=original.key,
            content_type=image.content_type, width=image.width, height=image.height,
            size_bytes=original.size, thumb_small_sha256=small.key,
            thumb_large_sha256=large.key, alt=alt,
        )  # fmt: skip
        session.add(row)
        await session.commit()
        return await image_read(storage, row)

    async def listing(
        self, session: AsyncSession, storage: ObjectStorage, product_id: uuid.UUID
    ) -> list[ImageRead]:
        """The gallery in order."""
        return [await image_read(storage, i) for i in await repository.gallery(session, product_id)]

    async def reorder(
        self, session: AsyncSession, storage: ObjectStorage, product_id: uuid.UUID,
        ids: list[uuid.UUID],
    ) -> list[ImageRead]:  # fmt: skip
        """Set the gallery order; ``ids`` must name every image of the product once. Commits."""
        await products.get(session, product_id)
        images = {i.id: i for i in await repository.gallery(session, product_id)}
        if len(ids) != len(set(ids)) or set(ids) != set(images):
            raise Unprocessable("Name every image of this product exactly once.")
        for position, image_id in enumerate(ids):
            images[image_id].position = position
        await session.commit()
        return await self.listing(session, storage, product_id)

    async def delete(
        self, session: AsyncSession, storage: ObjectStorage, product_id: uuid.UUID,
        image_id: uuid.UUID,
    ) -> None:  # fmt: skip
        """Remove an image; its blobs go too unless another image shares them. Commits."""
        image = await session.get(ProductImage, image_id)
        if image is None or image.product_id != product_id:
            raise NotFound(IMAGE_NOT_FOUND)
        keys = [image.sha256, image.thumb_small_sha256, image.thumb_large_sha256]
        await session.delete(image)
        await session.commit()
        # After the commit: a crash in between leaves an unreferenced blob (the kit's
        # reconciliation finds those), never a row pointing at a missing blob.
        used = await repository.still_used(session, keys)
        for key in set(keys) - used:
            await storage.delete(key)


gallery = GalleryService()
