"""The shop's storefront under the seed's load mix: browse/search 60 %, cart 25 %, checkout 15 %.

``--users`` virtual shoppers (500) with 1-3 s think time against `shop serve --workers 2` (two
API processes) and one `shop worker`, on PostgreSQL + Redis + RabbitMQ, the demo catalogue
(``shop.demo``: every variant starts with 25 units, so checkouts run the stock out and the
later ones are refused). Each shopper keeps an anonymous cart (``X-Cart-Token``, also sent on
product pages so views count in the analytics funnel):

- browse/search: a product page, a full-text search or an autocomplete, at random;
- cart: one unit of a random variant into the cart;
- checkout: the cart becomes an order (one unit is added first when the cart is empty).

Prints p50/p95/p99 per class, errors (5xx, transport errors, any unexpected 4xx; a checkout
refused with 409 for want of stock or declined with 403 by fraud screening is a refusal, not an
error), the share of checkouts that
ended in an order, and the oversell audit read from the database afterwards: no stock row
negative or promising more than it holds, and no variant with more units in live orders than
it had. Users ramp up over the first 10 s.

    .venv/bin/python bench/shop.py [--users 500] [--duration 60]
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import random
import subprocess
import sys
import time
import uuid
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from _servers import bench_env, latency_table, scratch_postgres, wait_live
from service import _pin_to_last_core

from forgekit.testing.servers import free_port

MIX = [("browse", 60), ("cart", 25), ("checkout", 15)]
WORDS = ["shirt", "jacket", "lamp", "wool", "cotton", "mug", "linen", "knife", "tee", "rain"]
ADDRESS = {"name": "Bench Shopper", "line1": "1 Load Street", "city": "London",
           "postcode": "N1 1AA", "country": "GB"}  # fmt: skip
#: Order statuses that hold or consumed stock.
LIVE = ("unconfirmed", "unfulfilled", "partially_fulfilled", "fulfilled")


@contextmanager
def shop_processes(env: dict[str, str], port: int) -> Iterator[str]:
    """Migrate, then run `shop serve --workers 2` and one `shop worker`; yields the base URL."""
    full = {**os.environ, **env, "SHOP_PORT": str(port), "SHOP_HOST": "127.0.0.1",
            "FORGE_LOG_LEVEL": "WARNING"}  # fmt: skip
    cli = [sys.executable, "-m", "shop.cli"]
    subprocess.run([*cli, "migrate"], env=full, check=True, capture_output=True)
    logs = Path(env["SHOP_DATA_DIR"])
    logs.mkdir(parents=True, exist_ok=True)
    with open(logs / "api.log", "wb") as api_log, open(logs / "worker.log", "wb") as worker_log:
        api = subprocess.Popen([*cli, "serve", "--workers", "2"], env=full,
                               stdout=subprocess.DEVNULL, stderr=api_log)  # fmt: skip
        worker = subprocess.Popen([*cli, "worker"], env=full, stdout=subprocess.DEVNULL,
                                  stderr=worker_log)  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        try:
            wait_live(base, api, timeout_s=300)
        except RuntimeError:
            print((logs / "api.log").read_text()[-3000:], file=sys.stderr)
            raise
        yield base
    finally:
        for proc in (api, worker):
            proc.terminate()
        for proc in (api, worker):
            proc.wait(timeout=60)


async def catalogue(base: str) -> tuple[list[str], list[str]]:
    """The demo catalogue's product slugs and variant ids (waits for the seed)."""
    async with httpx.AsyncClient(base_url=base, timeout=60) as c:
        deadline = time.monotonic() + 120
        while True:
            page = await c.get("/api/v1/search", params={"limit": 100})
            if page.status_code == 200 and page.json()["total"] >= 10:
                break
            if time.monotonic() > deadline:
                raise RuntimeError(f"no demo catalogue: {page.status_code} {page.text[:200]}")
            await asyncio.sleep(1)
        slugs = [hit["slug"] for hit in page.json()["items"]]
        variants = []
        for slug in slugs:
            product = (await c.get(f"/api/v1/products/by-slug/{slug}")).json()
            variants += [v["id"] for v in product["variants"]]
    return slugs, variants


class Shopper:
    """One virtual shopper's requests on a shared aiohttp session."""

    def __init__(self, c: Any, token: str, slugs: list[str], variants: list[str],
                 rnd: random.Random) -> None:  # fmt: skip
        self.c, self.rnd, self.slugs, self.variants = c, rnd, slugs, variants
        self.headers = {"X-Cart-Token": token}
        self.carted = 0

    async def _call(self, method: str, url: str, **kw: Any) -> int:
        async with self.c.request(method, url, headers=self.headers, **kw) as r:
            await r.read()
            return int(r.status)

    async def browse(self) -> int:
        pick = self.rnd.random()
        if pick < 0.5:
            slug = self.rnd.choice(self.slugs)
            return await self._call("GET", f"/api/v1/products/by-slug/{slug}")
        word = self.rnd.choice(WORDS)
        if pick < 0.8:
            return await self._call("GET", "/api/v1/search", params={"q": word})
        return await self._call("GET", "/api/v1/search/suggest", params={"q": word[:3]})

    async def cart(self) -> int:
        body = {"variant_id": self.rnd.choice(self.variants), "quantity": 1}
        status = await self._call("POST", "/api/v1/cart/lines", json=body)
        self.carted += status == 200
        return status

    async def checkout(self) -> int:
        if not self.carted:
            added = await self.cart()
            if added != 200:
                return added  # nothing to check out: the failed add is this checkout's error
        body = {"shipping_address": ADDRESS, "email": "shopper@bench.example"}
        # A cut connection leaves the cart unknown (the order may exist): add again next time.
        held, self.carted = self.carted, 0
        status = await self._call("POST", "/api/v1/checkout", json=body)
        if status != 201:
            self.carted = held  # refused: the cart keeps its lines
        return status


# A checkout refused for want of stock (409) or declined by fraud screening (403: the shared
# guest e-mail and device of the simulated shoppers trip the velocity rules) is an answer.
EXPECTED = {"browse": {200}, "cart": {200}, "checkout": {201, 403, 409}}


async def _drive(base: str, users: int, duration: float, slugs: list[str],
                 variants: list[str]) -> None:  # fmt: skip
    import aiohttp

    lat: dict[str, list[float]] = defaultdict(list)
    errors: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    outcomes: dict[int, int] = defaultdict(int)
    names = [n for n, w in MIX for _ in range(w)]
    started = time.monotonic()
    stop_at = started + duration
    cpu0 = time.process_time()
    connector = aiohttp.TCPConnector(limit=users, limit_per_host=users)
    async with aiohttp.ClientSession(base, connector=connector,
                                     timeout=aiohttp.ClientTimeout(total=60)) as c:  # fmt: skip

        async def user(idx: int) -> None:
            await asyncio.sleep(10.0 * idx / users)  # ramp-up
            rnd = random.Random(idx)
            async with c.post("/api/v1/carts") as r:
                token = (await r.json())["token"]
            shopper = Shopper(c, token, slugs, variants, rnd)
            while time.monotonic() < stop_at:
                kind = rnd.choice(names)
                t0 = time.perf_counter()
                try:
                    status = await getattr(shopper, kind)()
                    if status not in EXPECTED[kind]:
                        errors[kind][str(status)] += 1
                    if kind == "checkout":
                        outcomes[status] += 1
                except (TimeoutError, aiohttp.ClientError) as exc:
                    errors[kind][type(exc).__name__] += 1
                lat[kind].append((time.perf_counter() - t0) * 1000)
                await asyncio.sleep(rnd.uniform(1.0, 3.0))

        await asyncio.gather(*(user(i) for i in range(users)))
    elapsed = time.monotonic() - started
    _report(users, elapsed, lat, errors, outcomes, time.process_time() - cpu0)


def _report(users: int, elapsed: float, lat: dict[str, list[float]],
            errors: dict[str, dict[str, int]], outcomes: dict[int, int],
            cpu: float) -> None:  # fmt: skip
    print(f"\n{users} shoppers, think 1-3 s, {elapsed:.0f} s, 2 API processes + 1 worker")
    latency_table([kind for kind, _ in MIX], lat, errors, elapsed, "class", 10)
    attempts = sum(outcomes.values())
    ordered = outcomes.get(201, 0)
    share = 100 * ordered / attempts if attempts else 0.0
    print(f"checkouts: {attempts}, ended in an order: {ordered} ({share:.1f} %), refused (409,"
          f" out of stock): {outcomes.get(409, 0)}, declined by fraud screening (403): "
          f"{outcomes.get(403, 0)}")  # fmt: skip
    print(f"load generator: {cpu:.1f} s CPU = {100 * cpu / elapsed:.0f}% of one core")


def _user_process(base: str, users: int, duration: float, slugs: list[str],
                  variants: list[str]) -> None:  # fmt: skip
    print(f"load generator: separate process, {_pin_to_last_core()}", flush=True)
    asyncio.run(_drive(base, users, duration, slugs, variants))
    sys.stdout.flush()


async def oversell_audit(db_url: str) -> int:
    """Print the stock audit; returns the number of oversold or broken variants."""
    conn = await asyncpg.connect(db_url.replace("+asyncpg", ""))
    try:
        bad_rows = await conn.fetchval(
            "SELECT count(*) FROM shop_stock WHERE on_hand < 0 OR reserved < 0"
            " OR reserved > on_hand"
        )
        oversold = await conn.fetch(
            "SELECT l.variant_id, sum(l.quantity) AS sold,"
            " (SELECT sum(on_hand) FROM shop_stock s WHERE s.variant_id = l.variant_id) AS held"
            " FROM shop_order_lines l JOIN shop_orders o ON o.id = l.order_id"
            " WHERE o.status = ANY($1::text[]) GROUP BY l.variant_id"
            " HAVING sum(l.quantity) > (SELECT coalesce(sum(on_hand), 0) FROM shop_stock s"
            " WHERE s.variant_id = l.variant_id)",
            list(LIVE),
        )
        orders = await conn.fetchval(
            "SELECT count(*) FROM shop_orders WHERE status = ANY($1::text[])", list(LIVE)
        )
        units = await conn.fetchval("SELECT coalesce(sum(reserved), 0) FROM shop_stock")
        stock = await conn.fetchval("SELECT coalesce(sum(on_hand), 0) FROM shop_stock")
    finally:
        await conn.close()
    print(f"oversell audit: {orders} live orders holding {units} of {stock} units;"
          f" stock rows negative or over-promised: {bad_rows};"
          f" variants sold past their stock: {len(oversold)}")  # fmt: skip
    return int(bad_rows) + len(oversold)


def load_average() -> str:
    """The machine's 1/5/15-minute load average (a shared machine: read figures with it)."""
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} / {five:.2f} / {fifteen:.2f} on {os.cpu_count()} cores"


def main() -> None:
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--users", type=int, default=500)
    parser.add_argument("--duration", type=float, default=60.0)
    args = parser.parse_args()
    unique = uuid.uuid4().hex[:8]
    with scratch_postgres("bench_shop") as db_url:
        env = bench_env(
            db_url,
            unique,
            # Two API processes and a worker share PostgreSQL's 100 connections with others.
            FORGE_DATABASE_POOL_SIZE="8",
            SHOP_DATA_DIR=f"/tmp/shop-bench-{unique}",
            SHOP_INPROCESS_WORKERS="false",
            SHOP_DEMO_CATALOGUE="true",
            SHOP_PAYMENTS_FAKE="false",
        )
        with shop_processes(env, free_port()) as base:
            print("Shop storefront on PostgreSQL + Redis + RabbitMQ (a shared, busy machine:"
                  f" load average before {load_average()})")  # fmt: skip
            slugs, variants = asyncio.run(catalogue(base))
            print(f"demo catalogue: {len(slugs)} products, {len(variants)} variants")
            proc = multiprocessing.get_context("fork").Process(
                target=_user_process, args=(base, args.users, args.duration, slugs, variants)
            )
            proc.start()
            proc.join()
            print(f"load average after: {load_average()}")
        problems = asyncio.run(oversell_audit(db_url))
        print("oversells: 0" if problems == 0 else f"OVERSELLS: {problems}")


if __name__ == "__main__":
    main()
