"""Image safety without a server: content sniffing, limits, bombs, EXIF, zips."""

import functools
import io
import zipfile

import pytest
from aquaculture.observations.images import check_image, clean, is_zip, read_zip
from aquaculture.settings import AquacultureSettings
from aquaculture.testing import fish_png
from PIL import Image

from forgekit.errors import PayloadTooLarge, Unprocessable, UnsupportedMediaType

SETTINGS = AquacultureSettings(_env_file=None)


def _jpeg_with_exif(orientation: int) -> bytes:
    img = Image.new("RGB", (40, 20), "red")
    img.paste((0, 0, 255), (0, 0, 10, 20))  # a blue left edge shows where the rotation went
    exif = Image.Exif()
    exif[0x0112] = orientation
    exif[0x8825] = {2: (59.0, 20.0, 0.0), 1: "N"}  # GPSInfo: latitude
    exif[0x010F] = "FishCam"
    out = io.BytesIO()
    img.save(out, format="JPEG", exif=exif)
    return out.getvalue()


@functools.cache
def _bomb() -> bytes:
    """A 9000x9000 PNG of one colour: under 100 KB, 81 M pixels once decoded."""
    out = io.BytesIO()
    Image.new("1", (9000, 9000)).save(out, format="PNG")
    return out.getvalue()


def _zip(entries: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        for name, data in entries.items():
            z.writestr(name, data)
    return out.getvalue()


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "WEBP"])
def test_accepted_formats_are_recognised_by_content(fmt: str) -> None:
    checked = check_image(fish_png(fmt=fmt), SETTINGS, "misnamed.gif")
    assert checked.format == fmt
    cleaned = clean(checked, SETTINGS, 64)
    assert cleaned.content_type == f"image/{fmt.lower()}"
    assert cleaned.pixels.shape == (64, 64, 3)
    assert Image.open(io.BytesIO(cleaned.thumbnail)).format == "JPEG"


@pytest.mark.parametrize("fmt", ["GIF", "BMP", "TIFF"])
def test_other_image_formats_are_refused(fmt: str) -> None:
    out = io.BytesIO()
    Image.new("RGB", (8, 8)).save(out, format=fmt)
    with pytest.raises(UnsupportedMediaType):
        check_image(out.getvalue(), SETTINGS, "fish.png")


@pytest.mark.parametrize(
    "data", [b"", b"not an image", b"\x89PNG\r\n\x1a\n" + b"\0" * 40, fish_png()[:200]]
)
def test_garbage_and_truncated_files_are_refused(data: bytes) -> None:
    with pytest.raises(UnsupportedMediaType):
        clean(check_image(data, SETTINGS), SETTINGS, 64)


def test_too_many_bytes_and_pixels_are_refused() -> None:
    small = AquacultureSettings(_env_file=None, image_max_bytes=1000)
    with pytest.raises(PayloadTooLarge):
        check_image(fish_png(), small)
    with pytest.raises(Unprocessable, match="exceeds"):
        check_image(_bomb(), SETTINGS)


def test_pillows_own_bomb_guard_is_a_refusal_too() -> None:
    roomy = AquacultureSettings(_env_file=None, image_max_pixels=10**9)
    limit = Image.MAX_IMAGE_PIXELS
    Image.MAX_IMAGE_PIXELS = 10_000_000
    try:
        with pytest.raises(Unprocessable, match="decompression bomb"):
            check_image(_bomb(), roomy)
    finally:
        Image.MAX_IMAGE_PIXELS = limit


def test_exif_orientation_is_applied_and_all_metadata_stripped() -> None:
    data = _jpeg_with_exif(orientation=6)  # "rotate 90 CW to display"
    assert b"FishCam" in data
    cleaned = clean(check_image(data, SETTINGS), SETTINGS, 32)
    assert (cleaned.width, cleaned.height) == (20, 40)
    stored = Image.open(io.BytesIO(cleaned.data))
    assert not stored.getexif() and "exif" not in stored.info
    assert b"FishCam" not in cleaned.data and b"Exif" not in cleaned.data
    # After rotating 90 degrees clockwise the blue left edge is on top.
    r, g, b = stored.convert("RGB").getpixel((10, 1))
    assert b > 150 and r < 100


def test_zip_batches_are_checked_entry_by_entry() -> None:
    good = _zip(
        {
            "a.png": fish_png(0),
            "dir/b.jpg": fish_png(1, fmt="JPEG"),
            "__MACOSX/._a.png": b"junk",
            ".DS_Store": b"junk",
        }
    )
    assert is_zip(good) and not is_zip(fish_png())
    images = read_zip(good, SETTINGS)
    assert [(i.filename, i.format) for i in images] == [("a.png", "PNG"), ("b.jpg", "JPEG")]
    with pytest.raises(UnsupportedMediaType, match="evil.exe"):
        read_zip(_zip({"a.png": fish_png(), "evil.exe": b"MZ\x90\x00"}), SETTINGS)
    with pytest.raises(Unprocessable, match="no images"):
        read_zip(_zip({"__MACOSX/x": b""}), SETTINGS)
    with pytest.raises(UnsupportedMediaType):
        read_zip(b"PK\x03\x04" + b"\0" * 100, SETTINGS)


def test_zip_limits_count_and_bounded_entry_reads() -> None:
    few = AquacultureSettings(_env_file=None, batch_max_images=2)
    with pytest.raises(Unprocessable, match="at most 2 images"):
        read_zip(_zip({f"{i}.png": fish_png() for i in range(3)}), few)
    # A highly compressible entry larger than an image may be: refused without expanding it all.
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("huge.png", b"\0" * (SETTINGS.image_max_bytes + 10))
    assert len(bomb.getvalue()) < 100_000
    with pytest.raises(PayloadTooLarge):
        read_zip(bomb.getvalue(), SETTINGS)
