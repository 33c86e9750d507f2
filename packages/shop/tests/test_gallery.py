"""Product images: checked by content, EXIF stripped, WebP thumbnails, stored by SHA-256,
ordered, deleted; every refusal is problem+json and stores nothing."""

import hashlib
import io
import zlib

import httpx
from PIL import Image
from shop.testing import make_channel, make_product, staff_user

from forgekit.runtime import Runtime

PROBLEM = "application/problem+json"


def _jpeg_with_exif(size: tuple[int, int] = (800, 400)) -> bytes:
    img = Image.new("RGB", size, (200, 30, 30))
    exif = Image.Exif()
    exif[0x010F] = "SpyCam"  # Make
    exif[0x0112] = 6  # Orientation: rotate 90° on display
    out = io.BytesIO()
    img.save(out, format="JPEG", exif=exif.tobytes())
    return out.getvalue()


def _png_bomb(side: int = 20_000) -> bytes:
    """A tiny PNG whose header claims side x side pixels (never decoded by the server)."""
    raw = zlib.compress(b"\x00" * (side // 8 + 1), 9)

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (len(data).to_bytes(4, "big") + kind + data
                + zlib.crc32(kind + data).to_bytes(4, "big"))  # fmt: skip

    ihdr = side.to_bytes(4, "big") * 2 + bytes([1, 0, 0, 0, 0])
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", raw) + chunk(b"IEND", b"")


async def _blobs(runtime: Runtime) -> int:
    return sum([1 async for _ in runtime.storage.listing()])


async def test_gallery_upload_thumbnails_order_and_delete(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    staff = await staff_user(client, runtime)
    await make_channel(client, staff)
    product = await make_product(client, staff)
    url = f"/api/v1/products/{product['id']}/images"
    before = await _blobs(runtime)
    refused = {
        "text": (b"hello, not an image", 415),
        "gif": (b"GIF89a\x01\x00\x01\x00\x00\x00\x00;", 415),
        "bomb": (_png_bomb(), 422),
        "huge": (b"\xff\xd8" + b"\x00" * (10 * 1024**2), 413),
    }
    for name, (data, code) in refused.items():
        resp = await client.post(url, headers=staff.headers, files={"file": (f"{name}.jpg", data)})
        assert resp.status_code == code, (name, resp.text)
        assert resp.headers["content-type"] == PROBLEM
    assert await _blobs(runtime) == before  # nothing stored
    assert (await client.get(url)).json() == []

    photo = _jpeg_with_exif()
    first = await client.post(url, headers=staff.headers, data={"alt": "red"},
                              files={"file": ("x.png", photo, "image/png")})  # fmt: skip
    assert first.status_code == 201, first.text
    image = first.json()
    # Judged by content (a .png name does not matter), turned upright by its EXIF, then
    # re-encoded without metadata; stored under the SHA-256 of what is stored.
    assert (image["content_type"], image["width"], image["height"]) == ("image/jpeg", 400, 800)
    stored = await runtime.storage.read(image["sha256"])
    assert hashlib.sha256(stored).hexdigest() == image["sha256"]
    with Image.open(io.BytesIO(stored)) as clean:
        assert not clean.getexif() and "exif" not in clean.info
    small = (await client.get(image["thumb_small_url"])).content
    large = (await client.get(image["thumb_large_url"])).content
    for data, side in ((small, 200), (large, 600)):
        with Image.open(io.BytesIO(data)) as thumb:
            assert thumb.format == "WEBP" and max(thumb.size) == side
    buf = io.BytesIO()
    Image.new("RGBA", (64, 32), (0, 0, 255, 128)).save(buf, format="WEBP")
    second = await client.post(
        url, headers=staff.headers, files={"file": ("b.webp", buf.getvalue())}
    )
    assert second.status_code == 201, second.text
    ids = [image["id"], second.json()["id"]]
    listed = (await client.get(url)).json()
    assert [i["id"] for i in listed] == ids
    assert (await client.put(f"{url}/order", headers=staff.headers,
                             json={"ids": ids[:1]})).status_code == 422  # fmt: skip
    reordered = await client.put(f"{url}/order", headers=staff.headers, json={"ids": ids[::-1]})
    assert [i["id"] for i in reordered.json()] == ids[::-1]
    assert [i["id"] for i in (await client.get(url)).json()] == ids[::-1]

    assert (await client.delete(f"{url}/{ids[0]}", headers=staff.headers)).status_code == 204
    assert not await runtime.storage.exists(image["sha256"])  # its blobs went with it
    assert [i["id"] for i in (await client.get(url)).json()] == ids[1:]
    assert (await client.delete(f"{url}/{ids[0]}", headers=staff.headers)).status_code == 404
