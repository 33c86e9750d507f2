"""Uploaded product images, safely (the kit's ``forgekit.images``, as Aquaculture's uploads):

* Pillow must recognise the bytes as JPEG, PNG or WebP; the file name and declared type are
  ignored. Anything else is 415.
* Bounds: bytes per upload (413), pixels per image read from the header before any decoding,
  so a decompression bomb is refused without being expanded (422); Pillow's own bomb guard
  stays on, its warning treated as a refusal.
* Cleaning: EXIF orientation applied, then re-encoded without any metadata (EXIF with its GPS
  position, XMP, comments): what is stored is the picture only.
* Thumbnails: WebP, longest side ``small`` and ``large`` pixels (never enlarged).

Every refusal raises before anything is stored.
"""

from __future__ import annotations

from dataclasses import dataclass

from forgekit.images import FORMATS, ImageLimits, decode, encode, identify, thumbnail

_ENCODING: dict[str, dict[str, int]] = {
    "JPEG": {"quality": 90}, "WEBP": {"quality": 90}, "PNG": {"compress_level": 6},
}  # fmt: skip


@dataclass(frozen=True)
class Limits:
    """What an upload may be."""

    max_bytes: int
    max_pixels: int
    small_px: int
    large_px: int


@dataclass(frozen=True)
class CleanImage:
    """A checked and cleaned image with its thumbnails, ready to store."""

    data: bytes
    content_type: str
    width: int
    height: int
    thumb_small: bytes
    thumb_large: bytes


def check(data: bytes, limits: Limits) -> str:
    """Identify and bound an image by its content without decoding its pixels; its format."""
    return identify(data, ImageLimits(limits.max_bytes, limits.max_pixels))


def clean(data: bytes, limits: Limits) -> CleanImage:
    """Check, decode, orient, strip metadata and thumbnail one upload (CPU: run in a thread)."""
    fmt = check(data, limits)
    img = decode(data, fmt)
    return CleanImage(
        encode(img, fmt, **_ENCODING[fmt]), FORMATS[fmt], img.width, img.height,
        thumbnail(img, limits.small_px), thumbnail(img, limits.large_px),
    )  # fmt: skip
