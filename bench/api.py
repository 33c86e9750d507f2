"""API latency under concurrency: GET /auth/me and POST /auth/login on PostgreSQL + Redis.

Starts `pyforge serve` (2 API processes) against a scratch PostgreSQL database, Redis and
RabbitMQ, then drives it with 100 and 1,000 concurrent clients from one asyncio process and
prints p50/p95/p99 latency, errors and requests/s. The peer in the same run is the kit's
cheapest endpoint, GET /live (no auth, no I/O): the ratio shows what authentication costs.
Login limits are raised for the run (one IP sends every login). Nothing here is asserted.

    .venv/bin/python bench/api.py [--requests-per-client 5]
"""

from __future__ import annotations

import argparse
import asyncio
import time
import uuid

import httpx
from _servers import bench_env, percentiles, pyforge_server, scratch_postgres

from forgekit.testing.servers import free_port

PASSWORD = "bench-password-123"


async def _users(base: str, n: int) -> list[tuple[str, str]]:
    """Register ``n`` users; returns (username, access token)."""
    out = []
    async with httpx.AsyncClient(base_url=base, timeout=60) as c:
        for i in range(n):
            name = f"u{i}_{uuid.uuid4().hex[:6]}"
            r = await c.post("/auth/register", json={"email": f"{name}@bench.example",
                                                    "username": name, "password": PASSWORD})
            r.raise_for_status()
            tok = await c.post("/auth/login", data={"username": name, "password": PASSWORD})
            tok.raise_for_status()
            out.append((name, tok.json()["access_token"]))
    return out


async def _drive(base: str, clients: int, per_client: int, make_request) -> dict[str, float]:
    """``clients`` concurrent clients on aiohttp (httpx's pool cost the generator ~1 ms of CPU
    per request, which on 2 cores made the client, not the server, the bottleneck)."""
    import aiohttp

    latencies: list[float] = []
    errors = 0
    kinds: dict[str, int] = {}
    connector = aiohttp.TCPConnector(limit=clients, limit_per_host=clients)
    timeout = aiohttp.ClientTimeout(total=120)
    async with aiohttp.ClientSession(base, connector=connector, timeout=timeout) as c:

        async def one_client(idx: int) -> None:
            nonlocal errors
            for _ in range(per_client):
                start = time.perf_counter()
                try:
                    async with make_request(c, idx) as r:
                        await r.read()
                        ok = r.status < 400
                        kind = str(r.status)
                except (TimeoutError, aiohttp.ClientError) as exc:
                    ok, kind = False, type(exc).__name__
                latencies.append((time.perf_counter() - start) * 1000)
                if not ok:
                    errors += 1
                    kinds[kind] = kinds.get(kind, 0) + 1

        t0 = time.perf_counter()
        await asyncio.gather(*(one_client(i) for i in range(clients)))
        wall = time.perf_counter() - t0
    p50, p95, p99 = percentiles(latencies)
    return {"n": len(latencies), "errors": errors, "rps": len(latencies) / wall,
            "p50": p50, "p95": p95, "p99": p99, "kinds": kinds}


def _row(name: str, clients: int, r: dict[str, float]) -> None:
    print(f"{name:<14} {clients:>6} {r['n']:>7} {r['errors']:>6} {r['rps']:>9.0f} "
          f"{r['p50']:>9.1f} {r['p95']:>9.1f} {r['p99']:>9.1f}"
          + (f"  errors: {r['kinds']}" if r["kinds"] else ""))


async def _bench(base: str, per_client: int, login_clients: tuple[int, ...]) -> None:
    users = await _users(base, 20)
    print(f"{'endpoint':<14} {'conc':>6} {'reqs':>7} {'errors':>6} {'req/s':>9} "
          f"{'p50 ms':>9} {'p95 ms':>9} {'p99 ms':>9}")
    for clients in (100, 1000):
        live = await _drive(base, clients, per_client, lambda c, i: c.get("/live"))
        _row("GET /live", clients, live)
        me = await _drive(base, clients, per_client, lambda c, i: c.get(
            "/auth/me", headers={"Authorization": f"Bearer {users[i % len(users)][1]}"}))
        _row("GET /auth/me", clients, me)
        print(f"{'':<14} ratio p50 /auth/me : /live = {me['p50'] / live['p50']:.2f}")
    for clients in login_clients:
        login = await _drive(base, clients, 1, lambda c, i: c.post(
            "/auth/login", data={"username": users[i % len(users)][0], "password": PASSWORD}))
        _row("POST /auth/login", clients, login)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests-per-client", type=int, default=5)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    unique = uuid.uuid4().hex[:8]
    with scratch_postgres("bench_api") as db_url:
        env = bench_env(db_url, unique)
        with pyforge_server(env, free_port(), workers=args.workers) as base:
            print(f"PyForge API on PostgreSQL + Redis + RabbitMQ, {args.workers} API processes, "
                  f"{args.requests_per_client} requests per client")
            asyncio.run(_bench(base, args.requests_per_client, (100, 1000)))


if __name__ == "__main__":
    main()
