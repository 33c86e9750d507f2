"""Uploaded images, safely: judged by content, bounded before decoding, cleaned before storage.

Needs the ``images`` extra (Pillow): ``pip install forgekit[images]``.

* :func:`identify`: Pillow must recognise the bytes as JPEG, PNG or WebP (the file name and
  the declared type are ignored; anything else is 415); bytes (413) and pixels (422) are
  bounded, the pixels read from the header before any decoding, so a decompression bomb is
  refused without being expanded; Pillow's own bomb guard stays on, its warning a refusal.
* :func:`decode`: EXIF orientation applied, the pixels loaded (damaged data is 415).
* :func:`encode`: the picture re-encoded without any metadata (EXIF with its GPS position,
  XMP, comments are never passed on): what is stored is the picture only.
* :func:`thumbnail`: a bounded copy (never enlarged).

Every refusal is a problem raised before anything is stored. Messages can name the file
(``name``), for batches where one of many images is refused.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

from PIL import Image, ImageOps, UnidentifiedImageError

from forgekit.errors import PayloadTooLarge, Unprocessable, UnsupportedMediaType

#: Pillow format -> content type of the formats accepted.
FORMATS = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}
_DAMAGED = (OSError, SyntaxError, ValueError, EOFError)
_BOMB = (Image.DecompressionBombError, Image.DecompressionBombWarning)


@dataclass(frozen=True)
class ImageLimits:
    """What one uploaded image may be."""

    max_bytes: int
    max_pixels: int


def _named(name: str | None, message: str) -> str:
    return f"{name}: {message}" if name else message


def identify(data: bytes, limits: ImageLimits, name: str | None = None) -> str:
    """The Pillow format of an accepted image, checked without decoding its pixels."""
    if len(data) > limits.max_bytes:
        raise PayloadTooLarge(_named(name, f"an image may be at most {limits.max_bytes} bytes"))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as img:
                fmt, (width, height) = img.format, img.size
                if fmt not in FORMATS:
                    raise UnsupportedMediaType(
                        _named(name, "only JPEG, PNG and WebP images are accepted")
                    )
                if width * height > limits.max_pixels:
                    raise Unprocessable(
                        _named(name, f"{width}x{height} exceeds {limits.max_pixels} pixels"),
                        width=width, height=height,
                    )  # fmt: skip
                img.verify()
    except _BOMB:
        raise Unprocessable(_named(name, "image too large (decompression bomb refused)")) from None
    except (UnidentifiedImageError, *_DAMAGED):
        raise UnsupportedMediaType(_named(name, "not a readable JPEG, PNG or WebP image")) from None
    return str(fmt)


def decode(data: bytes, fmt: str, name: str | None = None) -> Image.Image:
    """The identified image's pixels, EXIF orientation applied, as RGB (RGBA where a PNG or
    WebP has transparency)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as opened:
                img = ImageOps.exif_transpose(opened)
                img.load()
    except _BOMB:
        raise Unprocessable(_named(name, "image too large (decompression bomb refused)")) from None
    except _DAMAGED:
        raise UnsupportedMediaType(_named(name, "the image data is damaged")) from None
    keep_alpha = fmt != "JPEG" and img.mode in ("RGBA", "LA", "P") and _has_alpha(img)
    return img.convert("RGBA" if keep_alpha else "RGB")


def _has_alpha(img: Image.Image) -> bool:
    return img.mode in ("RGBA", "LA") or "transparency" in img.info


def encode(img: Image.Image, fmt: str, **options: int) -> bytes:
    """``img`` in ``fmt`` with Pillow's save ``options`` and no metadata at all."""
    out = io.BytesIO()
    # Saved without exif=, pnginfo= or xmp=: no metadata survives the re-encoding.
    img.save(out, format=fmt, **options)
    return out.getvalue()


def thumbnail(img: Image.Image, side: int, fmt: str = "WEBP", quality: int = 80) -> bytes:
    """A copy whose longest side is at most ``side`` pixels (never enlarged), encoded."""
    thumb = img.convert("RGB") if fmt == "JPEG" else img.copy()
    thumb.thumbnail((side, side))
    return encode(thumb, fmt, quality=quality)
