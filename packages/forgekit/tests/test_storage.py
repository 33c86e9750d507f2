"""forgekit.storage on the local directory and on S3 (moto's standalone server, over HTTP)."""

from __future__ import annotations

import asyncio
import hashlib
import random
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import boto3
import httpx
import pytest
from fastapi import FastAPI

from forgekit.errors import BadRequest, NotFound, PayloadTooLarge, install_error_handlers
from forgekit.storage import (
    InvalidObjectKey,
    LocalStorage,
    ObjectStorage,
    S3Storage,
    create_storage,
    storage_router,
)
from forgekit.storage.keys import content_disposition, safe_filename

SIGNING_KEY = "test-signing-key-0123456789abcdef"
MiB = 1024 * 1024
PART = 5 * MiB




def _s3(endpoint: str, bucket: str | None = None, **kwargs: Any) -> S3Storage:
    return S3Storage(
        bucket or f"test-{uuid.uuid4().hex[:12]}",
        endpoint_url=endpoint,
        region="us-east-1",
        access_key="testing",
        secret_key="testing",
        part_size=PART,
        **kwargs,
    )


@pytest.fixture(params=["local", "s3"])
async def storage(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[ObjectStorage]:
    if request.param == "local":
        yield LocalStorage(tmp_path / "objects", SIGNING_KEY, "http://testserver")
        return
    s3 = _s3(request.getfixturevalue("moto_endpoint"))
    await s3.ensure_bucket()
    yield s3
    for key in _s3_leftovers(s3):
        s3.client.delete_object(Bucket=s3.bucket, Key=key)
    s3.client.delete_bucket(Bucket=s3.bucket)
    await s3.close()


def _s3_leftovers(s3: S3Storage) -> list[str]:
    listed = s3.client.list_objects_v2(Bucket=s3.bucket).get("Contents", [])
    return [item["Key"] for item in listed]


def leftovers(storage: ObjectStorage) -> list[str]:
    """Everything the backend holds: files (temporary ones included) or objects and uploads."""
    if isinstance(storage, LocalStorage):
        return sorted(
            str(p.relative_to(storage.root)) for p in storage.root.rglob("*") if p.is_file()
        )
    assert isinstance(storage, S3Storage)
    uploads = storage.client.list_multipart_uploads(Bucket=storage.bucket).get("Uploads", [])
    return sorted(_s3_leftovers(storage) + [f"upload:{u['Key']}" for u in uploads])


def payload(size: int, seed: int = 0) -> bytes:
    return random.Random(seed).randbytes(size)


async def chunked(data: bytes, size: int = 64 * 1024) -> AsyncIterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]
        await asyncio.sleep(0)


async def test_round_trip(storage: ObjectStorage) -> None:
    data = b"print('hello')\n"
    stored = await storage.put_bytes(data, content_type="text/x-python")
    assert stored.key == hashlib.sha256(data).hexdigest()
    assert stored.size == len(data)
    assert stored.content_type == "text/x-python"
    assert stored.created
    assert await storage.read(stored.key) == data
    assert b"".join([c async for c in storage.open(stored.key)]) == data
    assert await storage.exists(stored.key)
    assert await storage.size(stored.key) == len(data)
    await storage.delete(stored.key)
    assert not await storage.exists(stored.key)
    await storage.delete(stored.key)  # idempotent


async def test_empty_object(storage: ObjectStorage) -> None:
    stored = await storage.put_bytes(b"")
    assert stored.key == hashlib.sha256(b"").hexdigest()
    assert await storage.read(stored.key) == b""
    assert await storage.size(stored.key) == 0


async def test_same_content_same_key(storage: ObjectStorage) -> None:
    first = await storage.put_bytes(b"same bytes")
    second = await storage.put_stream(chunked(b"same bytes", 3), max_size=100)
    assert first.key == second.key
    assert first.created and not second.created
    assert len(leftovers(storage)) == 1


async def test_put_bytes_twice_and_over_its_limit(storage: ObjectStorage) -> None:
    """In-memory bytes (LocalStorage writes them in one thread call): a second put of the
    same bytes creates nothing, and one over ``max_size`` is refused leaving nothing."""
    data = payload(5000, seed=9)
    first, second = await storage.put_bytes(data), await storage.put_bytes(data)
    assert first.key == second.key == hashlib.sha256(data).hexdigest()
    assert first.created and not second.created and second.size == 5000
    assert await storage.read(first.key) == data
    with pytest.raises(PayloadTooLarge) as err:
        await storage.put_bytes(payload(1000, seed=10), max_size=999)
    assert err.value.extensions == {"max_size": 999}
    assert len(leftovers(storage)) == 1


async def test_concurrent_uploads_of_the_same_content(storage: ObjectStorage) -> None:
    data = payload(300_000, seed=3)
    results = await asyncio.gather(*(storage.put_bytes(data) for _ in range(4)))
    assert len({r.key for r in results}) == 1
    assert await storage.read(results[0].key) == data
    assert len(leftovers(storage)) == 1


async def test_size_limit_leaves_nothing_behind(storage: ObjectStorage) -> None:
    with pytest.raises(PayloadTooLarge) as err:
        await storage.put_stream(chunked(payload(1000)), max_size=999)
    assert err.value.status == 413
    assert err.value.extensions == {"max_size": 999}
    assert leftovers(storage) == []
    exact = await storage.put_stream(chunked(payload(1000)), max_size=1000)
    assert exact.size == 1000


async def test_size_limit_mid_multipart_leaves_nothing_behind(storage: ObjectStorage) -> None:
    # Past two S3 parts before the limit trips: the multipart upload must be aborted.
    with pytest.raises(PayloadTooLarge):
        await storage.put_stream(chunked(payload(12 * MiB), 256 * 1024), max_size=11 * MiB)
    assert leftovers(storage) == []


async def test_failing_source_leaves_nothing_behind(storage: ObjectStorage) -> None:
    async def broken() -> AsyncIterator[bytes]:
        yield payload(6 * MiB)
        raise ConnectionResetError("client went away")

    with pytest.raises(ConnectionResetError):
        await storage.put_stream(broken(), max_size=100 * MiB)
    assert leftovers(storage) == []


async def test_streams_a_multi_megabyte_payload(storage: ObjectStorage) -> None:
    data = payload(12 * MiB + 123, seed=1)
    stored = await storage.put_stream(
        chunked(data), max_size=20 * MiB, content_type="application/zip"
    )
    assert stored.key == hashlib.sha256(data).hexdigest()
    assert stored.size == len(data)
    chunks = [c async for c in storage.open(stored.key, chunk_size=MiB)]
    assert len(chunks) >= 12
    assert max(len(c) for c in chunks) <= MiB
    assert hashlib.sha256(b"".join(chunks)).hexdigest() == stored.key
    # The second upload dedupes, and the temporary copy is gone.
    again = await storage.put_stream(chunked(data, MiB), max_size=20 * MiB)
    assert again.key == stored.key and not again.created
    assert len(leftovers(storage)) == 1


async def test_missing_objects(storage: ObjectStorage) -> None:
    key = hashlib.sha256(b"never stored").hexdigest()
    assert not await storage.exists(key)
    with pytest.raises(NotFound):
        await storage.read(key)
    with pytest.raises(NotFound):
        await storage.size(key)
    with pytest.raises(NotFound):
        [c async for c in storage.open(key)]
    await storage.delete(key)


INVALID_KEYS = [
    "../../etc/passwd",
    "",
    "a" * 63,
    "a" * 65,
    "A" * 64,
    "g" * 64,
    "a" * 64 + "\n",
    "a" * 62 + "/x",
    "../" + "a" * 61,
]


@pytest.mark.parametrize("key", INVALID_KEYS)
async def test_invalid_keys_are_refused(storage: ObjectStorage, key: str) -> None:
    for call in (storage.read, storage.exists, storage.size, storage.delete):
        with pytest.raises(InvalidObjectKey):
            await call(key)
    with pytest.raises(InvalidObjectKey):
        [c async for c in storage.open(key)]
    with pytest.raises(InvalidObjectKey):
        await storage.download_url(key, 60)
    assert issubclass(InvalidObjectKey, BadRequest)


async def test_download_url_lifetime_bounds(storage: ObjectStorage) -> None:
    key = (await storage.put_bytes(b"x")).key
    for bad in (0, -5, 7 * 24 * 3600 + 1):
        with pytest.raises(BadRequest):
            await storage.download_url(key, bad)


# --- local signed URLs through the router ---------------------------------------------------


def _app(storage: LocalStorage) -> FastAPI:
    app = FastAPI()
    install_error_handlers(app)
    app.include_router(storage_router)
    app.state.storage = storage
    return app


@pytest.fixture
def local(tmp_path: Path) -> LocalStorage:
    return LocalStorage(tmp_path / "objects", SIGNING_KEY, "http://testserver/")


@pytest.fixture
async def http(local: LocalStorage) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=_app(local))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


def _with_query(url: str, **changes: str) -> str:
    parts = urlsplit(url)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    query.update(changes)
    return f"{parts.path}?{urlencode(query)}"


async def test_signed_url_downloads(local: LocalStorage, http: httpx.AsyncClient) -> None:
    data = payload(3 * MiB, seed=2)
    key = (await local.put_bytes(data)).key
    url = await local.download_url(key, 60, filename="../../report ✓.zip")
    assert url.startswith(f"http://testserver/storage/{key}?")
    response = await http.get(url)
    assert response.status_code == 200
    assert response.content == data
    assert response.headers["content-type"] == "application/octet-stream"
    assert response.headers["x-content-type-options"] == "nosniff"
    disposition = response.headers["content-disposition"]
    assert disposition.startswith('attachment; filename="report _.zip"')
    assert "filename*=UTF-8''report%20%E2%9C%93.zip" in disposition


async def test_signed_url_without_filename(local: LocalStorage, http: httpx.AsyncClient) -> None:
    key = (await local.put_bytes(b"<script>alert(1)</script>", content_type="text/html")).key
    response = await http.get(await local.download_url(key, 60))
    assert response.status_code == 200
    assert response.headers["content-disposition"] == "attachment"
    assert response.headers["content-type"] == "application/octet-stream"


async def test_expired_url_is_forbidden(local: LocalStorage, http: httpx.AsyncClient) -> None:
    key = (await local.put_bytes(b"data")).key
    past = int(time.time()) - 1
    url = f"/storage/{key}?" + urlencode(
        {"exp": past, "sig": local.signer.signature(key, past, None)}
    )
    response = await http.get(url)
    assert response.status_code == 403
    assert response.headers["content-type"] == "application/problem+json"
    assert "expired" in response.json()["detail"]


@pytest.mark.parametrize(
    "tamper",
    [
        {"sig": "0" * 64},
        {"sig": ""},
        {"exp": str(int(time.time()) + 10_000)},
        {"exp": "soon"},
        {"filename": "other.exe"},
    ],
)
async def test_tampered_url_is_forbidden(
    local: LocalStorage, http: httpx.AsyncClient, tamper: dict[str, str]
) -> None:
    key = (await local.put_bytes(b"data")).key
    url = await local.download_url(key, 60, filename="a.txt")
    response = await http.get(_with_query(url, **tamper))
    assert response.status_code == 403
    assert response.json()["type"].endswith("/forbidden")


async def test_url_for_another_key_is_forbidden(
    local: LocalStorage, http: httpx.AsyncClient
) -> None:
    one = (await local.put_bytes(b"one")).key
    two = (await local.put_bytes(b"two")).key
    url = await local.download_url(one, 60)
    response = await http.get(url.replace(one, two))
    assert response.status_code == 403


async def test_unsigned_request_is_forbidden(local: LocalStorage, http: httpx.AsyncClient) -> None:
    key = (await local.put_bytes(b"data")).key
    assert (await http.get(f"/storage/{key}")).status_code == 403


async def test_signed_url_of_a_deleted_object_is_not_found(
    local: LocalStorage, http: httpx.AsyncClient
) -> None:
    key = (await local.put_bytes(b"gone soon")).key
    url = await local.download_url(key, 60)
    await local.delete(key)
    response = await http.get(url)
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize("path", ["/storage/..%2F..%2Fetc%2Fpasswd", "/storage/" + "A" * 64])
async def test_router_refuses_invalid_keys(http: httpx.AsyncClient, path: str) -> None:
    assert (await http.get(path + "?exp=1&sig=x")).status_code == 404


async def test_router_reads_storage_from_the_runtime(local: LocalStorage) -> None:
    class Runtime:
        storage = local

    app = FastAPI()
    install_error_handlers(app)
    app.include_router(storage_router)
    app.state.runtime = Runtime()
    key = (await local.put_bytes(b"via runtime")).key
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        response = await client.get(await local.download_url(key, 60))
    assert response.content == b"via runtime"


async def test_local_layout_fans_out(local: LocalStorage) -> None:
    key = (await local.put_bytes(b"layout")).key
    assert (local.root / key[:2] / key[2:4] / key).read_bytes() == b"layout"


def test_short_signing_key_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="16 bytes"):
        LocalStorage(tmp_path, "short", "")


# --- S3 presigned URLs ------------------------------------------------------------------------


async def test_s3_presigned_url_is_fetchable(moto_endpoint: str) -> None:
    s3 = _s3(moto_endpoint)
    await s3.ensure_bucket()
    try:
        data = payload(2 * MiB, seed=4)
        key = (await s3.put_bytes(data, content_type="application/gzip")).key
        url = await s3.download_url(key, 120, filename="build.tar.gz")
        assert url.startswith(moto_endpoint)
        assert "X-Amz-Signature=" in url and "X-Amz-Expires=120" in url
        async with httpx.AsyncClient(timeout=60) as client:
            response = await client.get(url)
        assert response.status_code == 200
        assert response.content == data
        assert "build.tar.gz" in response.headers["content-disposition"]
        head = s3.client.head_object(Bucket=s3.bucket, Key=key)
        assert head["ContentType"] == "application/gzip"
    finally:
        await s3.close()


async def test_s3_multipart_object_keeps_its_content_type(moto_endpoint: str) -> None:
    s3 = _s3(moto_endpoint)
    await s3.ensure_bucket()
    try:
        stored = await s3.put_stream(
            chunked(payload(11 * MiB, seed=5), MiB), max_size=20 * MiB, content_type="video/mp4"
        )
        head = s3.client.head_object(Bucket=s3.bucket, Key=stored.key)
        assert head["ContentType"] == "video/mp4"
        assert head["ContentLength"] == 11 * MiB
    finally:
        await s3.close()


def test_s3_part_size_has_a_floor() -> None:
    with pytest.raises(ValueError, match="part_size"):
        S3Storage("bucket", part_size=MiB)


# --- factory ----------------------------------------------------------------------------------


def test_create_storage_local(tmp_path: Path) -> None:
    plain = create_storage(str(tmp_path / "a"), signing_key=SIGNING_KEY, base_url="")
    assert isinstance(plain, LocalStorage) and plain.root == (tmp_path / "a").resolve()
    url = create_storage(f"file://{tmp_path}/b%20c", signing_key=SIGNING_KEY, base_url="")
    assert isinstance(url, LocalStorage) and url.root == (tmp_path / "b c").resolve()
    with pytest.raises(ValueError, match="local"):
        create_storage("file://otherhost/data", signing_key=SIGNING_KEY, base_url="")
    with pytest.raises(ValueError, match="scheme"):
        create_storage("ftp://host/data", signing_key=SIGNING_KEY, base_url="")


async def test_create_storage_s3_from_url(moto_endpoint: str) -> None:
    bucket = f"test-{uuid.uuid4().hex[:12]}"
    boto3.client(
        "s3",
        endpoint_url=moto_endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    ).create_bucket(Bucket=bucket)
    s3 = create_storage(
        f"s3://testing:testing@{bucket}/uploads?endpoint_url={moto_endpoint}&region=us-east-1",
        signing_key=SIGNING_KEY,
        base_url="",
    )
    try:
        assert isinstance(s3, S3Storage)
        assert (s3.bucket, s3.prefix, s3.region) == (bucket, "uploads/", "us-east-1")
        key = (await s3.put_bytes(b"prefixed")).key
        assert _s3_leftovers(s3) == [f"uploads/{key}"]
        assert await s3.read(key) == b"prefixed"
    finally:
        await s3.close()


async def test_create_storage_s3_credentials_from_env(
    moto_endpoint: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    s3 = create_storage(
        f"s3://env-{uuid.uuid4().hex[:12]}?endpoint_url={moto_endpoint}",
        signing_key=SIGNING_KEY,
        base_url="",
    )
    assert isinstance(s3, S3Storage)
    try:
        await s3.ensure_bucket()
        assert (await s3.put_bytes(b"env")).created
    finally:
        await s3.close()


# --- file names -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "safe"),
    [
        ("report.pdf", "report.pdf"),
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\x\\evil.exe", "evil.exe"),
        ("a\r\nSet-Cookie: x", "aSet-Cookie: x"),
        ("..", None),
        ("   ", None),
        (None, None),
    ],
)
def test_safe_filename(raw: str | None, safe: str | None) -> None:
    assert safe_filename(raw) == safe


def test_content_disposition() -> None:
    assert content_disposition(None) == "attachment"
    assert content_disposition('a"b.txt') == (
        "attachment; filename=\"a_b.txt\"; filename*=UTF-8''a%22b.txt"
    )


async def test_reconcile_removes_old_orphans_and_reports_missing(storage: ObjectStorage) -> None:
    from datetime import UTC, datetime, timedelta

    from forgekit.storage.reconcile import reconcile

    kept = (await storage.put_bytes(b"kept")).key
    orphan = (await storage.put_bytes(b"orphan")).key
    missing = "f" * 64
    refs = {kept, missing}

    async def referenced() -> set[str]:
        return refs

    # Within the grace period an unreferenced object may belong to an upload in flight.
    young = await reconcile(storage, referenced, grace_s=3600)
    assert (young.stored, young.orphans, young.missing) == (2, [], [missing])
    later = datetime.now(UTC) + timedelta(hours=2)
    report = await reconcile(storage, referenced, grace_s=3600, now=later)
    assert report.orphans == [orphan] and report.removed_orphans == 1
    assert report.missing == [missing] and not report.consistent
    assert await storage.exists(kept) and not await storage.exists(orphan)
    refs.discard(missing)
    assert (await reconcile(storage, referenced, grace_s=0)).consistent
