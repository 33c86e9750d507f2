"""Modelhub's resumable upload of one large file: throughput and the API process's peak memory.

    .venv/bin/python bench/modelhub_upload.py [--mb 200] [--chunk-mb 8] [--runs 3]

The app runs in this process (in-process ASGI client, embedded SQLite) on two storage backends:
the local directory and moto's standalone S3 server (a process of its own, so the objects it
keeps in memory are not counted as ours). Each run uploads a different file of ``--mb`` MB
(content differs, so duplicate detection never short-cuts completion): create the upload, PUT
every chunk with its SHA-256, complete (the server joins the chunks and verifies the SHA-256).

Printed per backend, medians of ``--runs``: throughput (MB/s over create + chunks + complete),
the time of completion alone, the tracemalloc peak of this process during the run (Python
allocations of server and client; the client streams each chunk's body from the file in 1 MiB
blocks, so what is held is the server's), and how far the run raised ``ru_maxrss`` (the
resident high-water mark; 0 once an earlier run reached it).
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import logging
import os
import resource
import statistics
import sys
import tempfile
import time
import tracemalloc
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
from modelhub.app import create_app
from modelhub.product import PRODUCT
from modelhub.settings import ModelhubSettings

from forgekit.identity.testing import FAST_PASSWORD_HASHING, TestUser, register_and_login, set_user
from forgekit.settings import Environment, ForgeSettings
from forgekit.testing.s3 import moto_server_process, new_bucket, storage_url

MB = 1024 * 1024


def _write_file(path: Path, size: int, run: int) -> str:
    """A file of ``size`` pseudo-random bytes, different for every run; its SHA-256."""
    digest = hashlib.sha256()
    block = os.urandom(MB)
    with path.open("wb") as fh:
        for i in range(size // MB):
            # Distinct blocks: storage never sees the same chunk twice within or across runs.
            data = run.to_bytes(4, "big") + i.to_bytes(4, "big") + block[8:]
            fh.write(data)
            digest.update(data)
    return digest.hexdigest()


async def _slices(path: Path, offset: int, length: int) -> AsyncIterator[bytes]:
    """Bytes ``offset`` to ``offset + length`` of ``path`` in 1 MiB blocks: the client streams
    each chunk's body, so it never holds a whole chunk (the measurement is the server's)."""
    with path.open("rb") as fh:
        fh.seek(offset)
        while length > 0:
            block = await asyncio.to_thread(fh.read, min(MB, length))
            if not block:
                return
            length -= len(block)
            yield block


async def _sha256(path: Path, offset: int, length: int) -> str:
    digest = hashlib.sha256()
    async for block in _slices(path, offset, length):
        digest.update(block)
    return digest.hexdigest()


async def upload(client: httpx.AsyncClient, user: TestUser, model: str, path: Path, sha: str,
                 chunk: int) -> float:  # fmt: skip
    """Upload ``path`` through the chunk API (each chunk's body streamed); returns the seconds
    completion took."""
    size = path.stat().st_size
    resp = await client.post(f"{model}/uploads", headers=user.headers, json={
        "filename": path.name, "size": size, "sha256": sha, "chunk_size": chunk})
    resp.raise_for_status()
    upload_id = resp.json()["id"]
    for index, offset in enumerate(range(0, size, chunk)):
        length = min(chunk, size - offset)
        headers = {**user.headers, "content-type": "application/octet-stream",
                   "content-length": str(length),
                   "X-Chunk-SHA256": await _sha256(path, offset, length)}  # fmt: skip
        put = await client.put(f"/api/v1/uploads/{upload_id}/chunks/{index}",
                               content=_slices(path, offset, length), headers=headers)
        put.raise_for_status()
    started = time.perf_counter()
    done = await client.post(f"/api/v1/uploads/{upload_id}/complete", headers=user.headers)
    done.raise_for_status()
    assert done.json()["sha256"] == sha and not done.json()["duplicate"]
    return time.perf_counter() - started


async def _settings(tmp: Path, storage: str) -> ForgeSettings:
    url = f"sqlite+aiosqlite:///{tmp / 'bench.db'}"
    # Alembic's env runs its own event loop: migrate from a thread.
    await asyncio.to_thread(PRODUCT.upgrade, url)
    return ForgeSettings(
        _env_file=None, env=Environment.TEST, app_name="mhbench", data_dir=tmp / "data",
        database_url=url, storage_url=storage, log_json=False, log_level="WARNING",
        rate_limit_enabled=False,
        **FAST_PASSWORD_HASHING,
    )  # fmt: skip


async def bench_backend(name: str, storage: str, args: argparse.Namespace) -> None:
    """``--runs`` uploads on one storage backend; prints the medians."""
    with tempfile.TemporaryDirectory(prefix="mh-upload-") as tmpdir:
        tmp = Path(tmpdir)
        app = create_app(await _settings(tmp, storage), ModelhubSettings(_env_file=None))
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://bench",
                                         timeout=600) as client:  # fmt: skip
                user = await register_and_login(client)
                await set_user(app.state.runtime, user, role="publisher", is_verified=True)
                body = {"name": "big", "title": "Big", "task": "regression",
                        "framework": "onnx", "license": "mit"}  # fmt: skip
                created = await client.post("/api/v1/models", json=body, headers=user.headers)
                created.raise_for_status()
                model = f"/api/v1/models/{user.username}/big"
                rows = [await _one_run(client, user, model, tmp, run, args)
                        for run in range(args.runs)]  # fmt: skip
    med = [statistics.median(col) for col in zip(*rows, strict=True)]
    print(f"{name:>6}: {args.mb} MB in {args.chunk_mb} MB chunks, median of {args.runs}: "
          f"{med[0]:.1f} MB/s ({med[1]:.2f} s total, complete {med[2]:.2f} s), "
          f"tracemalloc peak {med[3]:.1f} MiB, ru_maxrss +{med[4]:.1f} MiB")
    for run, row in enumerate(rows):
        print(f"        run {run}: {row[0]:.1f} MB/s, peak {row[3]:.1f} MiB, "
              f"ru_maxrss +{row[4]:.1f} MiB")


Row = tuple[float, float, float, float, float]


async def _one_run(client: httpx.AsyncClient, user: TestUser, model: str, tmp: Path, run: int,
                   args: argparse.Namespace) -> Row:  # fmt: skip
    path = tmp / f"model-{run}.bin"
    sha = await asyncio.to_thread(_write_file, path, args.mb * MB, run)
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    tracemalloc.start()
    started = time.perf_counter()
    complete_s = await upload(client, user, model, path, sha, args.chunk_mb * MB)
    elapsed = time.perf_counter() - started
    peak = tracemalloc.get_traced_memory()[1] / MB
    tracemalloc.stop()
    rss_delta = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 - rss_before
    path.unlink()
    return args.mb / elapsed, elapsed, complete_s, peak, rss_delta


@contextmanager
def _s3() -> Iterator[str]:
    with moto_server_process() as endpoint:
        yield storage_url(endpoint, new_bucket(endpoint))


def main() -> None:
    """Run the benchmark on the local directory, then on moto's S3 server."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=int, default=200)
    parser.add_argument("--chunk-mb", type=int, default=8)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    logging.getLogger("httpx").setLevel(logging.WARNING)
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs")
    with tempfile.TemporaryDirectory(prefix="mh-objects-") as objects:
        asyncio.run(bench_backend("local", objects, args))
    with _s3() as url:
        asyncio.run(bench_backend("s3", url, args))


if __name__ == "__main__":
    main()
