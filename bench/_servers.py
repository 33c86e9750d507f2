"""Helpers shared by the benchmarks: free ports, scratch PostgreSQL databases, server processes."""

from __future__ import annotations

import asyncio
import os
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager

import asyncpg
import httpx

PG_ADMIN = os.environ.get("FORGE_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("FORGE_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
AMQP_URL = os.environ.get("FORGE_TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/")


def bench_env(db_url: str, unique: str, **extra: str) -> dict[str, str]:
    """Settings for a benchmark server: real backends under unique names, limits out of the way."""
    env = {
        "FORGE_DATABASE_URL": db_url,
        "FORGE_REDIS_URL": REDIS_URL,
        "FORGE_AMQP_URL": AMQP_URL,
        "FORGE_REDIS_PREFIX": f"bench:{unique}:",
        "FORGE_EVENTS_EXCHANGE": f"bench.{unique}.events",
        "FORGE_EVENTS_QUEUE_PREFIX": f"bench.{unique}",
        "FORGE_RATE_LIMIT_DEFAULT": "1000000/minute",
        "FORGE_LOGIN_ATTEMPTS_PER_IP": "1000000/minute",
        "FORGE_DATABASE_POOL_SIZE": "20",
        "PYFORGE_DATA_DIR": f"/tmp/pyforge-bench-{unique}",
    }
    env.update(extra)
    return env




async def _pg(sql: str) -> None:
    conn = await asyncpg.connect(PG_ADMIN.replace("+asyncpg", ""))
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@contextmanager
def scratch_postgres(prefix: str = "bench") -> Iterator[str]:
    """A new PostgreSQL database, dropped afterwards; yields its asyncpg URL."""
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    asyncio.run(_pg(f'CREATE DATABASE "{name}"'))
    base = PG_ADMIN.replace("postgresql://", "postgresql+asyncpg://").rsplit("/", 1)[0]
    try:
        yield f"{base}/{name}"
    finally:
        asyncio.run(_pg(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@contextmanager
def pyforge_server(env: dict[str, str], port: int, workers: int = 1) -> Iterator[str]:
    """Migrate, then run ``pyforge serve`` until the block ends; yields the base URL."""
    full = {**os.environ, **env, "PYFORGE_PORT": str(port), "PYFORGE_HOST": "127.0.0.1",
            "FORGE_LOG_LEVEL": "WARNING"}
    cli = [sys.executable, "-m", "pyforge.cli"]
    subprocess.run([*cli, "migrate"], env=full, check=True, capture_output=True)
    proc = subprocess.Popen([*cli, "serve", "--workers", str(workers)], env=full,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_live(base, proc)
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def wait_live(base: str, proc: subprocess.Popen[bytes], timeout_s: float = 60) -> None:
    """Poll ``/live`` until the server answers 200; raise when it exits or the deadline passes."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            if httpx.get(f"{base}/live", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline or proc.poll() is not None:
            raise RuntimeError(f"server at {base} did not start")
        time.sleep(0.3)


def latency_table(
    kinds: Sequence[str],
    lat: Mapping[str, list[float]],
    errors: Mapping[str, Mapping[str, int]],
    elapsed: float,
    label: str,
    width: int,
) -> list[float]:
    """Print requests, p50/p95/p99 (ms) and errors per kind of a load mix, then all of them
    with the request rate; return every sample."""
    print(f"{label:<{width}}{'requests':>9}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'errors':>8}")
    every: list[float] = []
    for kind in kinds:
        samples = lat[kind]
        every += samples
        p50, p95, p99 = percentiles(samples)
        n_err = sum(errors[kind].values())
        print(f"{kind:<{width}}{len(samples):>9}{p50:>9.1f}{p95:>9.1f}{p99:>9.1f}{n_err:>8}"
              + (f"  {dict(errors[kind])}" if n_err else ""))  # fmt: skip
    p50, p95, p99 = percentiles(every)
    total_err = sum(sum(e.values()) for e in errors.values())
    print(f"{'all':<{width}}{len(every):>9}{p50:>9.1f}{p95:>9.1f}{p99:>9.1f}{total_err:>8}"
          f"   {len(every) / elapsed:.1f} requests/s")  # fmt: skip
    return every


def percentiles(samples: Sequence[float]) -> tuple[float, float, float]:
    """p50, p95, p99 of ``samples`` (same unit)."""
    if len(samples) < 2:
        v = samples[0] if samples else float("nan")
        return v, v, v
    q = statistics.quantiles(samples, n=100, method="inclusive")
    return statistics.median(samples), q[94], q[98]
