"""A large upload streams: the process's Python memory stays bounded by a few chunks, far below
the file's size, on the local directory and on S3 (moto's server in a process of its own, so
the objects it holds in memory are not counted as ours), on both database backends.

Not a timing test: ``bench/modelhub_upload.py`` measures throughput (200 MB).
"""

from __future__ import annotations

import hashlib
import tracemalloc
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from forgekit.identity.testing import register_and_login, set_user
from forgekit.runtime import Runtime
from forgekit.settings import ForgeSettings
from forgekit.testing.s3 import moto_process_endpoint, new_bucket, storage_url  # noqa: F401

MB = 1024 * 1024
SIZE = 64 * MB
CHUNK = 8 * MB
#: The client streams each chunk's body in 1 MiB blocks, so the peak is the server's. On disk
#: it writes block by block: under one chunk. S3 buffers one multipart part (8 MiB), copies it
#: for the request and signs it: three parts' worth. Holding the file would take 64 MiB.
BOUNDS = {"local": CHUNK, "s3": 3 * 8 * MB}


@pytest.fixture(params=["local", "s3"])
def forge_settings(request: pytest.FixtureRequest, forge_settings: ForgeSettings) -> ForgeSettings:
    if request.param == "local":
        return forge_settings
    endpoint = request.getfixturevalue("moto_process_endpoint")
    return forge_settings.model_copy(
        update={"storage_url": storage_url(endpoint, new_bucket(endpoint))}
    )


@pytest.fixture
def app_factory():
    from modelhub.app import create_app
    from modelhub.settings import ModelhubSettings

    def build(settings: ForgeSettings) -> FastAPI:
        return create_app(settings, ModelhubSettings(_env_file=None))

    return build


async def _slices(path: Path, offset: int, length: int) -> AsyncIterator[bytes]:
    with path.open("rb") as fh:
        fh.seek(offset)
        while length > 0 and (block := fh.read(min(MB, length))):
            length -= len(block)
            yield block


def _blocks(run_seed: int) -> Iterator[bytes]:
    # Distinct 1 MiB blocks made on the fly: the test itself never holds the file.
    base = hashlib.sha256(str(run_seed).encode()).digest() * (MB // 32)
    for i in range(SIZE // MB):
        yield i.to_bytes(8, "big") + base[8:]


def _file(tmp_path: Path) -> tuple[Path, str]:
    path, digest = tmp_path / "big.bin", hashlib.sha256()
    with path.open("wb") as fh:
        for block in _blocks(1):
            fh.write(block)
            digest.update(block)
    return path, digest.hexdigest()


async def test_a_64_mb_upload_keeps_memory_bounded(
    client: httpx.AsyncClient, runtime: Runtime, tmp_path: Path
) -> None:
    pub = await register_and_login(client)
    await set_user(runtime, pub, role="publisher", is_verified=True)
    body = {"name": "big", "title": "Big", "task": "regression", "framework": "onnx",
            "license": "mit"}  # fmt: skip
    assert (await client.post("/api/v1/models", json=body, headers=pub.headers)).status_code == 201
    path, sha = _file(tmp_path)
    tracemalloc.start()
    try:
        resp = await client.post(f"/api/v1/models/{pub.username}/big/uploads", headers=pub.headers,
                                 json={"filename": "big.bin", "size": SIZE, "sha256": sha,
                                       "chunk_size": CHUNK})  # fmt: skip
        assert resp.status_code == 201, resp.text
        upload_id = resp.json()["id"]
        for index, offset in enumerate(range(0, SIZE, CHUNK)):
            digest = hashlib.sha256()
            async for block in _slices(path, offset, CHUNK):
                digest.update(block)
            put = await client.put(
                f"/api/v1/uploads/{upload_id}/chunks/{index}", content=_slices(path, offset, CHUNK),
                headers={**pub.headers, "content-type": "application/octet-stream",
                         "content-length": str(CHUNK), "X-Chunk-SHA256": digest.hexdigest()},
            )  # fmt: skip
            assert put.status_code == 204, put.text
        done = await client.post(f"/api/v1/uploads/{upload_id}/complete", headers=pub.headers)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert done.status_code == 200, done.text
    assert done.json()["sha256"] == sha and done.json()["size"] == SIZE
    assert await runtime.storage.size(sha) == SIZE
    bound = BOUNDS[storage_kind(runtime)]
    assert peak < bound < SIZE / 2, f"tracemalloc peak {peak / MB:.1f} MiB for {SIZE // MB} MiB"


def storage_kind(runtime: Runtime) -> str:
    return "s3" if runtime.settings.effective_storage_url.startswith("s3://") else "local"
