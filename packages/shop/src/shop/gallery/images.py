"""Uploaded product images, safely (the approach of Aquaculture's uploads):

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

import io
import warnings
from dataclasses import dataclass

from PIL import Image, ImageOps, UnidentifiedImageError

from forgekit.errors import PayloadTooLarge, Unprocessable, UnsupportedMediaType

#: Pillow format -> content type of the formats accepted.
FORMATS = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}
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
    if len(data) > limits.max_bytes:
        raise PayloadTooLarge(f"An image may be at most {limits.max_bytes} bytes.")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as img:
                fmt, (width, height) = img.format, img.size
                if fmt not in FORMATS:
                    raise UnsupportedMediaType("Only JPEG, PNG and WebP images are accepted.")
                if width * height > limits.max_pixels:
                    raise Unprocessable(
                        f"{width}x{height} exceeds {limits.max_pixels} pixels.",
                        width=width, height=height,
                    )  # fmt: skip
                img.verify()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise Unprocessable("Image too large (decompression bomb refused).") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError):
        raise UnsupportedMediaType("Not a readable JPEG, PNG or WebP image.") from None
    return str(fmt)


def _webp(img: Image.Image, side: int) -> bytes:
    thumb = img.copy()
    thumb.thumbnail((side, side))
    out = io.BytesIO()
    thumb.save(out, format="WEBP", quality=80)
    return out.getvalue()


def clean(data: bytes, limits: Limits) -> CleanImage:
    """Check, decode, orient, strip metadata and thumbnail one upload (CPU: run in a thread)."""
    fmt = check(data, limits)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as opened:
                img = ImageOps.exif_transpose(opened)
                img.load()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise Unprocessable("Image too large (decompression bomb refused).") from None
    except (OSError, SyntaxError, ValueError, EOFError):
        raise UnsupportedMediaType("The image data is damaged.") from None
    keep_alpha = fmt != "JPEG" and img.mode in ("RGBA", "LA", "P")
    img = img.convert("RGBA" if keep_alpha else "RGB")
    out = io.BytesIO()
    # Saved without exif=, pnginfo= or xmp=: no metadata survives the re-encoding.
    img.save(out, format=fmt, **_ENCODING[fmt])
    return CleanImage(
        out.getvalue(), FORMATS[fmt], img.width, img.height,
        _webp(img, limits.small_px), _webp(img, limits.large_px),
    )  # fmt: skip
