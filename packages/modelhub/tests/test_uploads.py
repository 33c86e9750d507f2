"""Resumable chunked uploads on the local directory and on S3 (moto), on both backends."""

import hashlib
import os
from datetime import timedelta

import httpx
import pytest
from fastapi import FastAPI
from modelhub.uploads.service import uploads

from forgekit.db.base import utcnow
from forgekit.identity.testing import TestUser, register_and_login, set_user
from forgekit.runtime import Runtime
from forgekit.settings import ForgeSettings
from forgekit.testing.s3 import new_bucket, storage_url

CHUNK = 64 * 1024
MODEL = {"name": "tiny", "title": "Tiny", "task": "regression", "framework": "onnx",
         "license": "mit"}


@pytest.fixture(params=["local", "s3"])
def forge_settings(request: pytest.FixtureRequest, forge_settings: ForgeSettings) -> ForgeSettings:
    if request.param == "local":
        return forge_settings
    endpoint = request.getfixturevalue("moto_endpoint")
    return forge_settings.model_copy(
        update={"storage_url": storage_url(endpoint, new_bucket(endpoint))}
    )


@pytest.fixture
def app_factory():
    from modelhub.app import create_app
    from modelhub.settings import ModelhubSettings

    def build(settings: ForgeSettings) -> FastAPI:
        # Small chunks and quota so that the tests move kilobytes, not gigabytes.
        return create_app(settings, ModelhubSettings(
            _env_file=None, upload_min_chunk_bytes=1024, publisher_quota_bytes=2 * 1024 * 1024))

    return build


async def _publisher_with_model(client: httpx.AsyncClient, runtime: Runtime) -> tuple[TestUser, str]:
    pub = await register_and_login(client)
    await set_user(runtime, pub, role="publisher", is_verified=True)
    resp = await client.post("/api/v1/models", json=MODEL, headers=pub.headers)
    assert resp.status_code == 201, resp.text
    return pub, f"/api/v1/models/{pub.username}/tiny"


async def _open(client: httpx.AsyncClient, pub: TestUser, model: str, data: bytes,
                sha: str | None = None) -> dict:
    resp = await client.post(f"{model}/uploads", headers=pub.headers, json={
        "filename": "tiny.onnx", "size": len(data),
        "sha256": sha or hashlib.sha256(data).hexdigest(), "chunk_size": CHUNK})
    assert resp.status_code == 201, resp.text
    return resp.json()


async def _put(client: httpx.AsyncClient, pub: TestUser, upload_id: str, index: int,
               chunk: bytes, sha: str | None = None) -> httpx.Response:
    return await client.put(
        f"/api/v1/uploads/{upload_id}/chunks/{index}", content=chunk,
        headers={**pub.headers, "content-type": "application/octet-stream",
                 "X-Chunk-SHA256": sha or hashlib.sha256(chunk).hexdigest()})


def _chunks(data: bytes) -> list[bytes]:
    return [data[i:i + CHUNK] for i in range(0, len(data), CHUNK)]


async def test_chunks_in_any_order_resume_and_complete(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    pub, model = await _publisher_with_model(client, runtime)
    data = os.urandom(5 * CHUNK - 1000)
    upload = await _open(client, pub, model, data)
    assert upload["chunk_count"] == 5 and upload["received"] == []
    parts = _chunks(data)
    for i in (3, 0, 4):
        assert (await _put(client, pub, upload["id"], i, parts[i])).status_code == 204
    # An interrupted client asks what arrived and sends the rest.
    state = (await client.get(f"/api/v1/uploads/{upload['id']}", headers=pub.headers)).json()
    assert state["received"] == [0, 3, 4] and state["status"] == "open"
    early = await client.post(f"/api/v1/uploads/{upload['id']}/complete", headers=pub.headers)
    assert early.status_code == 409 and early.json()["missing"] == [1, 2]
    for i in (2, 1, 1):  # a chunk sent twice is simply replaced
        assert (await _put(client, pub, upload["id"], i, parts[i])).status_code == 204
    done = await client.post(f"/api/v1/uploads/{upload['id']}/complete", headers=pub.headers)
    assert done.status_code == 200, done.text
    sha = hashlib.sha256(data).hexdigest()
    assert done.json() == {"id": upload["id"], "sha256": sha, "size": len(data), "duplicate": False}
    assert await runtime.storage.read(sha) == data
    # The chunks' own objects are gone once joined.
    for part in parts:
        assert not await runtime.storage.exists(hashlib.sha256(part).hexdigest())
    # The same file again is recognised as a duplicate and not stored twice.
    again = await _open(client, pub, model, data)
    for i, part in enumerate(parts):
        await _put(client, pub, again["id"], i, part)
    dup = await client.post(f"/api/v1/uploads/{again['id']}/complete", headers=pub.headers)
    assert dup.status_code == 200 and dup.json()["duplicate"] is True


async def test_corrupt_chunks_and_files_are_refused_and_nothing_is_kept(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    pub, model = await _publisher_with_model(client, runtime)
    data = os.urandom(2 * CHUNK)
    upload = await _open(client, pub, model, data)
    parts = _chunks(data)
    bad = await _put(client, pub, upload["id"], 0, parts[0], sha="0" * 64)
    assert bad.status_code == 422 and bad.json()["type"].endswith("/checksum-mismatch")
    assert not await runtime.storage.exists(hashlib.sha256(parts[0]).hexdigest())
    short = await _put(client, pub, upload["id"], 0, parts[0][:-1])
    assert short.status_code == 422
    assert (await _put(client, pub, upload["id"], 7, parts[0])).status_code == 404
    state = (await client.get(f"/api/v1/uploads/{upload['id']}", headers=pub.headers)).json()
    assert state["received"] == []
    # Chunks that are each fine but make another file than declared: 422, still open.
    wrong = await _open(client, pub, model, data, sha=hashlib.sha256(b"other").hexdigest())
    for i, part in enumerate(parts):
        assert (await _put(client, pub, wrong["id"], i, part)).status_code == 204
    resp = await client.post(f"/api/v1/uploads/{wrong['id']}/complete", headers=pub.headers)
    assert resp.status_code == 422
    assert not await runtime.storage.exists(hashlib.sha256(data).hexdigest())
    state = (await client.get(f"/api/v1/uploads/{wrong['id']}", headers=pub.headers)).json()
    assert state["status"] == "open"


async def test_limits_quota_and_ownership(client: httpx.AsyncClient, runtime: Runtime) -> None:
    pub, model = await _publisher_with_model(client, runtime)
    body = {"filename": "big.onnx", "sha256": "a" * 64, "chunk_size": CHUNK}
    over = await client.post(f"{model}/uploads", headers=pub.headers,
                             json={**body, "size": 3 * 1024 * 1024})
    assert over.status_code == 413 and over.json()["type"].endswith("/quota-exceeded")
    tiny_chunks = await client.post(f"{model}/uploads", headers=pub.headers,
                                    json={**body, "size": 10, "chunk_size": 10})
    assert tiny_chunks.status_code == 422
    upload = await _open(client, pub, model, b"x" * 100)
    other, _ = await _publisher_with_model(client, runtime)
    for resp in (
        await client.get(f"/api/v1/uploads/{upload['id']}", headers=other.headers),
        await _put(client, other, upload["id"], 0, b"x" * 100),
        await client.post(f"/api/v1/uploads/{upload['id']}/complete", headers=other.headers),
        await client.post(f"{model}/uploads", headers=other.headers, json={**body, "size": 10}),
    ):
        assert resp.status_code in (403, 404), resp.text
    consumer = await register_and_login(client)
    assert (await client.get(f"/api/v1/uploads/{upload['id']}",
                             headers=consumer.headers)).status_code == 403


async def test_expired_and_aborted_uploads_release_their_chunks(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    pub, model = await _publisher_with_model(client, runtime)
    data = os.urandom(2 * CHUNK)
    parts = _chunks(data)
    stale = await _open(client, pub, model, data)
    await _put(client, pub, stale["id"], 0, parts[0])
    async with runtime.db.session() as session:
        expired = await uploads.expire_stale(session, runtime.storage, utcnow() + timedelta(days=2))
    assert expired == 1
    assert not await runtime.storage.exists(hashlib.sha256(parts[0]).hexdigest())
    assert (await _put(client, pub, stale["id"], 1, parts[1])).status_code == 409
    aborted = await _open(client, pub, model, data)
    await _put(client, pub, aborted["id"], 1, parts[1])
    assert (await client.delete(f"/api/v1/uploads/{aborted['id']}",
                                headers=pub.headers)).status_code == 204
    assert not await runtime.storage.exists(hashlib.sha256(parts[1]).hexdigest())
    state = (await client.get(f"/api/v1/uploads/{aborted['id']}", headers=pub.headers)).json()
    assert state["status"] == "aborted"
