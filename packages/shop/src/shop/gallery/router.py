"""Product galleries over HTTP: staff upload, reorder and delete; anyone lists a published
product's images."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, Response, UploadFile, status

from forgekit.deps import SessionDep
from forgekit.errors import NotFound, PayloadTooLarge
from forgekit.identity.deps import OptionalPrincipal, require_scopes
from forgekit.identity.principal import Principal
from shop.catalogue.repository import ProductRepository
from shop.catalogue.service import PRODUCT_NOT_FOUND
from shop.gallery.schemas import GalleryOrder, ImageRead
from shop.gallery.service import gallery
from shop.paths import PRODUCT_ID
from shop.permissions import Permission
from shop.runtime import ShopRuntimeDep

router = APIRouter(prefix=f"/api/v1/products/{PRODUCT_ID}/images", tags=["catalogue"])

Staff = Annotated[Principal, Depends(require_scopes(Permission.CATALOGUE_MANAGE))]


async def _read_limited(file: UploadFile, limit: int) -> bytes:
    data = await file.read(limit + 1)
    if len(data) > limit:
        raise PayloadTooLarge(f"An image may be at most {limit} bytes.")
    return data


@router.post("", status_code=status.HTTP_201_CREATED)
async def upload_image(
    product_id: uuid.UUID,
    _: Staff,
    runtime: ShopRuntimeDep,
    session: SessionDep,
    file: Annotated[UploadFile, File(description="A JPEG, PNG or WebP image")],
    alt: Annotated[str, Form(max_length=300)] = "",
) -> ImageRead:
    """Add an image at the end of the gallery (checked by content, EXIF stripped, WebP
    thumbnails of ``SHOP_IMAGE_THUMB_SMALL_PX`` and ``SHOP_IMAGE_THUMB_LARGE_PX``)."""
    data = await _read_limited(file, runtime.app_settings.image_max_bytes)
    return await gallery.upload(session, runtime.storage, runtime.app_settings, product_id,
                                data, alt)  # fmt: skip


@router.get("")
async def list_images(
    product_id: uuid.UUID, principal: OptionalPrincipal, runtime: ShopRuntimeDep,
    session: SessionDep,
) -> list[ImageRead]:  # fmt: skip
    """A published product's gallery in order (public); staff also see drafts'."""
    product = await ProductRepository(session).get(product_id)
    staff = principal is not None and principal.has(Permission.CATALOGUE_MANAGE)
    if product is None or (product.published_at is None and not staff):
        raise NotFound(PRODUCT_NOT_FOUND)
    return await gallery.listing(session, runtime.storage, product_id)


@router.put("/order")
async def reorder_images(
    product_id: uuid.UUID, data: GalleryOrder, _: Staff, runtime: ShopRuntimeDep,
    session: SessionDep,
) -> list[ImageRead]:  # fmt: skip
    """Set the gallery order (every image id once)."""
    return await gallery.reorder(session, runtime.storage, product_id, data.ids)


@router.delete("/{image_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_image(
    product_id: uuid.UUID, image_id: uuid.UUID, _: Staff, runtime: ShopRuntimeDep,
    session: SessionDep,
) -> Response:  # fmt: skip
    """Remove an image from the gallery (and its blobs, unless shared)."""
    await gallery.delete(session, runtime.storage, product_id, image_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
