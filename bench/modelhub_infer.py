"""Modelhub's hosted inference: dynamic batching against none, and the HTTP path's overhead.

    .venv/bin/python bench/modelhub_infer.py [--requests 600] [--width 256] [--hidden 1024]

One small dense ONNX model (``modelhub.testing.affine_onnx``: float32[batch, width] →
MatMul/Add/Relu/MatMul → [batch, 2]), one request = one row, at 1, 8 and 32 concurrent
callers, all in the same run:

- ``ort direct``: the peer: ``InferenceSession.run`` on one row, called in a loop (1 caller);
- ``kit, no batching`` / ``kit, batching``: the kit's ``InferenceRuntime`` in this process
  (``max_batch_size`` 1 against 32, ``max_queue_delay_ms`` 2), callers as asyncio tasks;
- ``HTTP, no batching`` / ``HTTP, batching``: ``POST …/versions/1.0.0/infer`` on a
  ``modelhub serve`` process (one uvicorn worker) on a scratch PostgreSQL database, Redis and
  RabbitMQ (embedded SQLite serialises every writer: each metered call commits), callers on
  aiohttp; every call is authenticated, rate limited, validated and metered (one usage row
  and its outbox event committed).

Printed: p50/p95 latency (ms) and throughput (calls/s) per mode and level, the batching ratio
at each level, and the HTTP path's p50 at 1 caller against ORT direct. ONNX Runtime uses one
intra-op thread (the kit's default). Nothing is asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import numpy as np
import onnxruntime as ort
from _servers import bench_env, percentiles, scratch_postgres, wait_live
from modelhub.testing import affine_onnx

from forgekit.identity.testing import FAST_PASSWORD_HASHING
from forgekit.inference import InferenceRuntime, InferenceSettings
from forgekit.storage import LocalStorage
from forgekit.testing.servers import free_port

LEVELS = (1, 8, 32)
Result = tuple[float, float, float]  # p50 ms, p95 ms, calls/s


async def _drive(call: Callable[[int], Awaitable[None]], callers: int, total: int) -> Result:
    latencies: list[float] = []
    counter = iter(range(total))

    async def worker() -> None:
        for i in counter:
            t0 = time.perf_counter()
            await call(i)
            latencies.append(time.perf_counter() - t0)

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(callers)))
    elapsed = time.perf_counter() - started
    p50, p95, _ = percentiles(latencies)
    return p50 * 1000, p95 * 1000, total / elapsed


def _rows(width: int, n: int = 64) -> list[np.ndarray]:
    rng = np.random.default_rng(1)
    return [rng.standard_normal((1, width)).astype(np.float32) for _ in range(n)]


def ort_direct(model: bytes, rows: list[np.ndarray], total: int) -> Result:
    """The peer: one session, one row per ``run``, one caller."""
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = opts.inter_op_num_threads = 1
    session = ort.InferenceSession(model, sess_options=opts, providers=["CPUExecutionProvider"])
    for r in rows[:20]:
        session.run(["y"], {"x": r})
    latencies = []
    started = time.perf_counter()
    for i in range(total):
        t0 = time.perf_counter()
        session.run(["y"], {"x": rows[i % len(rows)]})
        latencies.append(time.perf_counter() - t0)
    elapsed = time.perf_counter() - started
    p50, p95, _ = percentiles(latencies)
    return p50 * 1000, p95 * 1000, total / elapsed


async def kit(model: bytes, rows: list[np.ndarray], batch: int, total: int) -> dict[int, Result]:
    """The kit's runtime in-process, batching up to ``batch`` rows."""
    with tempfile.TemporaryDirectory() as tmp:
        storage = LocalStorage(Path(tmp), "k" * 32, "http://bench")
        key = (await storage.put_bytes(model)).key
        settings = InferenceSettings(
            max_batch_size=batch,
            max_queue_delay_ms=2.0 if batch > 1 else 0,
            max_queue_size=4096,
            _env_file=None,
        )  # type: ignore[call-arg]
        runtime = InferenceRuntime(settings)
        served = await runtime.ensure("m", "1", storage, key, warm_up_inputs={"x": rows[0]})

        async def call(i: int) -> None:
            await served.infer({"x": rows[i % len(rows)]})

        out = {c: await _drive(call, c, total) for c in LEVELS}
        await runtime.close()
        return out


@contextmanager
def modelhub_server(tmp: Path, db_url: str, batch: int) -> Iterator[str]:
    """``modelhub migrate`` + ``modelhub serve`` on ``db_url`` (Redis, RabbitMQ) from ``tmp``."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FORGE_", "MODELHUB_"))}
    env.update(bench_env(db_url, uuid.uuid4().hex[:8]))
    env.update({
        "MODELHUB_DATA_DIR": str(tmp), "MODELHUB_PORT": str(port), "MODELHUB_HOST": "127.0.0.1",
        "MODELHUB_INFER_RATE": "1000000/minute", "FORGE_RATE_LIMIT_DEFAULT": "1000000/minute",
        "FORGE_LOG_LEVEL": "WARNING", "FORGE_INFERENCE_MAX_BATCH_SIZE": str(batch),
        "FORGE_INFERENCE_MAX_QUEUE_DELAY_MS": "2" if batch > 1 else "0",
        "FORGE_INFERENCE_MAX_QUEUE_SIZE": "4096",
        **{f"FORGE_{k.upper()}": str(v) for k, v in FAST_PASSWORD_HASHING.items()},
    })  # fmt: skip
    cli = [sys.executable, "-m", "modelhub.cli"]
    subprocess.run([*cli, "migrate"], env=env, cwd=tmp, check=True, capture_output=True)
    proc = subprocess.Popen([*cli, "serve"], env=env, cwd=tmp, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        wait_live(base, proc)
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=30)


async def _promote(db_url: str, username: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(db_url.replace("+asyncpg", ""))
    try:
        await conn.execute(
            "UPDATE users SET role='publisher', is_verified=true WHERE username=$1", username
        )
    finally:
        await conn.close()


def _setup(base: str, db_url: str, model: bytes) -> tuple[str, dict[str, str]]:
    """A publisher (promoted in the database) hosts the model; a consumer's token calls it."""
    import hashlib

    with httpx.Client(base_url=base, timeout=60) as c:
        tokens = {}
        for who in ("pub", "con"):
            name = f"{who}_{uuid.uuid4().hex[:6]}"
            c.post(
                "/auth/register",
                json={
                    "email": f"{name}@bench.example",
                    "username": name,
                    "password": "bench-password-123",
                },
            ).raise_for_status()
            if who == "pub":
                asyncio.run(_promote(db_url, name))
                owner = name
            tok = c.post("/auth/login", data={"username": name, "password": "bench-password-123"})
            tokens[who] = {"Authorization": f"Bearer {tok.json()['access_token']}"}
        pub = tokens["pub"]
        c.post("/api/v1/models", headers=pub, json={
            "name": "affine", "title": "affine", "task": "regression", "framework": "onnx",
            "license": "mit", "visibility": "public"}).raise_for_status()  # fmt: skip
        m = f"/api/v1/models/{owner}/affine"
        c.post(f"{m}/publish", headers=pub).raise_for_status()
        sha = hashlib.sha256(model).hexdigest()
        up = c.post(
            f"{m}/uploads",
            headers=pub,
            json={"filename": "m.onnx", "size": len(model), "sha256": sha},
        ).json()
        c.put(
            f"/api/v1/uploads/{up['id']}/chunks/0",
            content=model,
            headers={**pub, "content-type": "application/octet-stream", "X-Chunk-SHA256": sha},
        ).raise_for_status()
        c.post(f"/api/v1/uploads/{up['id']}/complete", headers=pub).raise_for_status()
        c.post(
            f"{m}/versions", headers=pub, json={"version": "1.0.0", "upload_id": up["id"]}
        ).raise_for_status()
        c.post(f"{m}/versions/1.0.0/publish", headers=pub).raise_for_status()
        return f"{base}{m}/versions/1.0.0/infer", tokens["con"]


async def http(
    url: str, headers: dict[str, str], rows: list[np.ndarray], total: int
) -> dict[int, Result]:
    """The HTTP path on aiohttp (httpx's client costs more CPU than the server on 2 cores)."""
    import aiohttp

    bodies = [{"inputs": {"x": r.tolist()}} for r in rows]
    out: dict[int, Result] = {}
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=64)) as session:

        async def call(i: int) -> None:
            async with session.post(url, json=bodies[i % len(bodies)], headers=headers) as resp:
                if resp.status != 200:
                    raise RuntimeError(f"{resp.status}: {await resp.text()}")
                await resp.read()

        for _ in range(20):
            await call(0)
        for c in LEVELS:
            out[c] = await _drive(call, c, total)
    return out


def _print(name: str, results: dict[int, Result]) -> None:
    for c, (p50, p95, tput) in results.items():
        print(f"{name:<20} {c:>7} {p50:>9.2f} {p95:>9.2f} {tput:>10.0f}")


def main() -> None:
    """Run every mode and print the table and the ratios."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=600, help="calls per mode and level")
    parser.add_argument("--width", type=int, default=256)
    parser.add_argument("--hidden", type=int, default=1024)
    args = parser.parse_args()
    model = affine_onnx(args.width, args.hidden)
    rows = _rows(args.width)
    print(f"model: float32[batch,{args.width}] -> {args.hidden} -> 2, {len(model)} bytes; "
          f"{args.requests} calls per mode and level; {os.cpu_count()} CPUs")  # fmt: skip
    print(f"{'mode':<20} {'callers':>7} {'p50 ms':>9} {'p95 ms':>9} {'calls/s':>10}")
    direct = ort_direct(model, rows, args.requests)
    _print("ort direct", {1: direct})
    kit_off = asyncio.run(kit(model, rows, 1, args.requests))
    kit_on = asyncio.run(kit(model, rows, 32, args.requests))
    _print("kit, no batching", kit_off)
    _print("kit, batching", kit_on)
    web: dict[str, dict[int, Result]] = {}
    for label, batch in (("HTTP, no batching", 1), ("HTTP, batching", 32)):
        with (
            tempfile.TemporaryDirectory() as tmp,
            scratch_postgres("modelhub_bench") as db_url,
            modelhub_server(Path(tmp), db_url, batch) as base,
        ):
            url, headers = _setup(base, db_url, model)
            web[label] = asyncio.run(http(url, headers, rows, args.requests))
        _print(label, web[label])
    print()
    on, off = web["HTTP, batching"], web["HTTP, no batching"]
    for c in LEVELS:
        print(f"batching / none at {c:>2} callers: kit {kit_on[c][2] / kit_off[c][2]:.2f}x "
              f"throughput (p95 {kit_on[c][1]:.1f} ms), HTTP {on[c][2] / off[c][2]:.2f}x "
              f"(p95 {on[c][1]:.1f} ms)")  # fmt: skip
    http_p50 = web["HTTP, batching"][1][0]
    print(f"HTTP path p50 at 1 caller {http_p50:.2f} ms vs ORT direct {direct[0]:.3f} ms: "
          f"overhead {http_p50 - direct[0]:.2f} ms ({http_p50 / direct[0]:.0f}x); "
          f"kit runtime p50 {kit_on[1][0]:.2f} ms")  # fmt: skip
    med_on = statistics.median(r[2] for r in kit_on.values())
    med_off = statistics.median(r[2] for r in kit_off.values())
    print(f"median throughput over the levels: kit batching {med_on:.0f}/s, none {med_off:.0f}/s")


if __name__ == "__main__":
    main()
