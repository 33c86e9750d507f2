"""forgekit.images: content decides the format, bombs are refused before decoding, metadata
never survives, orientation is applied, thumbnails are bounded."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from forgekit.errors import PayloadTooLarge, Unprocessable, UnsupportedMediaType
from forgekit.images import ImageLimits, decode, encode, identify, thumbnail

LIMITS = ImageLimits(max_bytes=2_000_000, max_pixels=1_000_000)


def _jpeg_with_gps_and_rotation() -> bytes:
    img = Image.new("RGB", (40, 20), "red")
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: rotate 90 degrees clockwise to display
    exif[0x8825] = {2: (51.0, 30.0, 0.0)}  # GPS latitude
    out = io.BytesIO()
    img.save(out, format="JPEG", exif=exif)
    return out.getvalue()


def test_content_not_name_decides_and_limits_hold_before_decoding() -> None:
    png = io.BytesIO()
    Image.new("RGB", (10, 10)).save(png, format="PNG")
    assert identify(png.getvalue(), LIMITS, "x.jpg") == "PNG"
    gif = io.BytesIO()
    Image.new("RGB", (10, 10)).save(gif, format="GIF")
    with pytest.raises(UnsupportedMediaType, match="a.gif: only JPEG, PNG and WebP"):
        identify(gif.getvalue(), LIMITS, "a.gif")
    with pytest.raises(UnsupportedMediaType, match="not a readable"):
        identify(b"<?php echo 1; ?>", LIMITS)
    with pytest.raises(PayloadTooLarge):
        identify(png.getvalue(), ImageLimits(max_bytes=10, max_pixels=10**6))
    # A 4-megapixel PNG of one colour is a few hundred bytes: its header alone refuses it.
    bomb = io.BytesIO()
    Image.new("1", (2_000, 2_000)).save(bomb, format="PNG")
    with pytest.raises(Unprocessable, match="exceeds 1000000 pixels"):
        identify(bomb.getvalue(), LIMITS)


def test_orientation_applied_and_no_metadata_survives() -> None:
    data = _jpeg_with_gps_and_rotation()
    img = decode(data, identify(data, LIMITS))
    assert img.size == (20, 40) and img.mode == "RGB"
    cleaned = Image.open(io.BytesIO(encode(img, "JPEG", quality=90)))
    assert not cleaned.getexif() and "exif" not in cleaned.info
    small = Image.open(io.BytesIO(thumbnail(img, 10)))
    assert small.format == "WEBP" and max(small.size) == 10
    assert Image.open(io.BytesIO(thumbnail(img, 400, "JPEG"))).size == (20, 40)  # not enlarged


def test_transparency_is_kept_where_the_format_has_it_and_damage_is_415() -> None:
    out = io.BytesIO()
    Image.new("RGBA", (8, 8), (0, 0, 0, 0)).save(out, format="PNG")
    assert decode(out.getvalue(), "PNG").mode == "RGBA"
    truncated = _jpeg_with_gps_and_rotation()[:200]
    with pytest.raises(UnsupportedMediaType, match="damaged|not a readable"):
        decode(truncated, "JPEG", "cut.jpg")
