"""Product images out, and the gallery order in."""

from __future__ import annotations

import uuid

from pydantic import BaseModel, ConfigDict, Field


class ImageRead(BaseModel):
    """One gallery image with short-lived signed links to it and its thumbnails."""

    id: uuid.UUID
    position: int
    sha256: str
    content_type: str
    width: int
    height: int
    size_bytes: int
    alt: str
    url: str
    thumb_small_url: str
    thumb_large_url: str


class GalleryOrder(BaseModel):
    """``PUT /api/v1/products/{id}/images/order``: every image id of the gallery, in order."""

    model_config = ConfigDict(extra="forbid")

    ids: list[uuid.UUID] = Field(min_length=1, max_length=100)
