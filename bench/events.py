"""Event throughput and end-to-end latency: outbox -> relay -> RabbitMQ -> consumer.

Runs, in one process and one run:

1. PostgreSQL + RabbitMQ (the production path): producers commit events into the outbox,
   the relay publishes them with publisher confirms, a consumer handles each in a transaction
   with its idempotency record and writes one side-effect row. The audit consumer (on by
   default) writes its row too.
2. The embedded bus: the same on SQLite, dispatched in-process.
3. The peer: raw aio-pika on the same broker (persistent messages, confirms, manual ack, no
   database at all) — the ceiling the outbox path is measured against.

Each run prints events/s, p50/p95/p99 latency (commit -> handler) and loss/duplicate counts
(from the side-effect table, so "duplicate" means duplicate in effect). A burst of N events
measures throughput (latency there includes queueing behind the backlog); a paced run
(``--paced-rate`` events/s) measures latency under light load. Scratch database, exchange and
queues are created per run and removed afterwards.

    .venv/bin/python bench/events.py [--events 5000] [--per-tx 1] [--producers 4]
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aio_pika
from sqlalchemy import Column, Float, Integer, MetaData, String, Table, func, select
from sqlalchemy.ext.asyncio import AsyncSession

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _servers import AMQP_URL, percentiles, scratch_postgres

from forgekit.db import Database, migrate
from forgekit.db.base import utcnow
from forgekit.events import Event, EventBus, create_event_bus, enqueue
from forgekit.settings import Environment, ForgeSettings

bench_meta = MetaData()
effects = Table(
    "bench_event_effects",
    bench_meta,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("event_id", String(36), nullable=False),
    Column("latency_ms", Float, nullable=False),
)


@dataclass
class Result:
    name: str
    events: int
    seconds: float
    latencies_ms: list[float]
    lost: int
    duplicates: int

    def line(self) -> str:
        p50, p95, p99 = percentiles(self.latencies_ms)
        rate = self.events / self.seconds if self.seconds else float("nan")
        return (
            f"{self.name:<44} {rate:>9,.0f} ev/s  p50 {p50:>8.1f} ms  p95 {p95:>8.1f} ms  "
            f"p99 {p99:>8.1f} ms  lost {self.lost}  dup {self.duplicates}"
        )


def make_bus(settings: ForgeSettings, db: Database, n: int, done: asyncio.Event) -> EventBus:
    """The bus with the bench consumer: one side-effect row (and its latency) per event."""
    handled = 0

    async def handler(event: Event, session: AsyncSession) -> None:
        nonlocal handled
        latency = (utcnow() - event.timestamp).total_seconds() * 1000
        await session.execute(effects.insert().values(event_id=str(event.id), latency_ms=latency))
        handled += 1
        if handled >= n:
            done.set()

    bus = create_event_bus(settings, db)
    bus.subscribe("bench", ["bench.*"], handler, prefetch=100)
    return bus


async def _worker(settings_json: str, n: int, ready: Any, stop: Any) -> None:
    settings = ForgeSettings.model_validate_json(settings_json)
    db = Database(settings.effective_database_url, pool_size=20)
    bus = make_bus(settings, db, n, asyncio.Event())
    await bus.start(consume=True)
    ready.set()
    await asyncio.to_thread(stop.wait)
    await bus.stop()
    await db.dispose()


def worker_main(settings_json: str, n: int, ready: Any, stop: Any) -> None:
    """A worker process: relay and consumers, as ``pyforge worker`` would run them."""
    asyncio.run(_worker(settings_json, n, ready, stop))


async def run_bus(
    name: str, settings: ForgeSettings, n: int, per_tx: int, producers: int,
    paced_rate: float | None = None, worker_process: bool = False,
) -> Result:
    db = Database(settings.effective_database_url, pool_size=20)
    async with db.engine.begin() as conn:
        await conn.run_sync(bench_meta.create_all)
    done = asyncio.Event()
    bus = make_bus(settings, db, n, done)
    proc = None
    if worker_process:
        # API role here (relay only), worker role in its own process: the deployed shape,
        # and the only way to use a second core from Python.
        ctx = multiprocessing.get_context("spawn")
        ready, stop = ctx.Event(), ctx.Event()
        proc = ctx.Process(target=worker_main, args=(settings.model_dump_json(), n, ready, stop))
        proc.start()
        await asyncio.to_thread(ready.wait, 60)
    await bus.start(consume=not worker_process)
    try:
        start = time.perf_counter()

        async def produce(count: int) -> None:
            sent = 0
            while sent < count:
                k = min(per_tx, count - sent)
                async with db.transaction() as session:
                    for _ in range(k):
                        await enqueue(session, "bench.created", {"n": sent})
                        sent += 1
                if paced_rate:
                    await asyncio.sleep(k * producers / paced_rate)

        shares = [n // producers + (1 if i < n % producers else 0) for i in range(producers)]
        await asyncio.gather(*(produce(c) for c in shares))

        async def handled() -> int:
            async with db.session() as s:
                return int(await s.scalar(select(func.count()).select_from(effects)) or 0)

        deadline = time.monotonic() + 600
        while not done.is_set() and await handled() < n and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        seconds = time.perf_counter() - start
        await asyncio.sleep(1.0)  # let redeliveries, if any, land before counting duplicates
        async with db.session() as s:
            total = await handled()
            distinct = int(
                await s.scalar(select(func.count(func.distinct(effects.c.event_id)))) or 0
            )
            latencies = list((await s.execute(select(effects.c.latency_ms))).scalars())
        return Result(name, n, seconds, latencies, n - distinct, total - distinct)
    finally:
        if proc is not None:
            stop.set()
            await asyncio.to_thread(proc.join, 60)
        await bus.stop()
        await bus.delete_topology()
        await db.dispose()


async def run_raw_amqp(n: int, producers: int) -> Result:
    """The peer: aio-pika alone, persistent + confirms + manual ack, no database."""
    tag = uuid.uuid4().hex[:8]
    conn = await aio_pika.connect_robust(AMQP_URL)
    latencies: list[float] = []
    seen: dict[str, int] = {}
    done = asyncio.Event()
    try:
        pub = await conn.channel(publisher_confirms=True)
        exchange = await pub.declare_exchange(f"bench.{tag}", aio_pika.ExchangeType.TOPIC,
                                              durable=True)
        con = await conn.channel()
        await con.set_qos(prefetch_count=100)
        queue = await con.declare_queue(f"bench.{tag}.q", durable=True)
        await queue.bind(f"bench.{tag}", routing_key="bench.*")

        async def on_message(message: aio_pika.abc.AbstractIncomingMessage) -> None:
            event = Event.from_json(message.body)
            latencies.append((utcnow() - event.timestamp).total_seconds() * 1000)
            seen[str(event.id)] = seen.get(str(event.id), 0) + 1
            await message.ack()
            if len(latencies) >= n:
                done.set()

        ctag = await queue.consume(on_message)
        start = time.perf_counter()

        async def produce(count: int) -> None:
            for i in range(count):
                event = Event(type="bench.created", payload={"n": i})
                await exchange.publish(
                    aio_pika.Message(event.to_json(), message_id=str(event.id),
                                     delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
                                     content_type="application/json"),
                    routing_key=event.type,
                )

        # Several publishers in flight, like the relay's batch of concurrent confirms.
        lanes = producers * 25
        await asyncio.gather(*(produce(n // lanes + (1 if i < n % lanes else 0))
                               for i in range(lanes)))
        await asyncio.wait_for(done.wait(), timeout=600)
        seconds = time.perf_counter() - start
        await queue.cancel(ctag)
        await queue.delete(if_unused=False, if_empty=False)
        await exchange.delete()
    finally:
        await conn.close()
    dups = sum(c - 1 for c in seen.values())
    return Result("peer: raw aio-pika (no DB, no outbox)", n, seconds, latencies,
                  n - len(seen), dups)


def settings_for(database_url: str, amqp_url: str, data_dir: Path) -> ForgeSettings:
    tag = uuid.uuid4().hex[:8]
    return ForgeSettings(
        _env_file=None,
        env=Environment.TEST, app_name="bench", data_dir=data_dir,
        database_url=database_url, amqp_url=amqp_url,
        events_exchange=f"bench.{tag}.events", events_queue_prefix=f"bench.{tag}",
        outbox_poll_interval_s=0.5, outbox_batch_size=100,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=5000)
    parser.add_argument("--per-tx", type=int, default=1, help="events per producer commit")
    parser.add_argument("--producers", type=int, default=4)
    parser.add_argument("--paced-events", type=int, default=500)
    parser.add_argument("--paced-rate", type=float, default=200.0, help="events/s")
    args = parser.parse_args()
    n, per_tx, producers = args.events, args.per_tx, args.producers
    print(f"{n} events, {per_tx} per commit, {producers} producers; consumer prefetch 100; "
          f"audit consumer on")
    results: list[Result] = []
    runs: list[tuple[str, bool, int, int, int, float | None, bool]] = [
        # name, on PostgreSQL + RabbitMQ, events, per commit, producers, pace, worker process
        ("PostgreSQL + RabbitMQ, burst, 1 process", True, n, per_tx, producers, None, False),
        ("PostgreSQL + RabbitMQ, burst, API + worker", True, n, per_tx, producers, None, True),
        (f"PostgreSQL + RabbitMQ, paced {args.paced_rate:.0f}/s", True, args.paced_events, 1, 1,
         args.paced_rate, True),
        ("embedded (SQLite, in-process), burst", False, n, per_tx, producers, None, False),
        (f"embedded (SQLite, in-process), paced {args.paced_rate:.0f}/s", False,
         args.paced_events, 1, 1, args.paced_rate, False),
    ]
    for name, real, count, k, prods, pace, split in runs:
        with tempfile.TemporaryDirectory() as tmp:
            if real:
                with scratch_postgres("bench_events") as url:
                    migrate.upgrade(url)
                    s = settings_for(url, AMQP_URL, Path(tmp))
                    results.append(asyncio.run(run_bus(name, s, count, k, prods, pace, split)))
            else:
                url = f"sqlite+aiosqlite:///{tmp}/bench.db"
                migrate.upgrade(url)
                s = settings_for(url, "", Path(tmp))
                results.append(asyncio.run(run_bus(name, s, count, k, prods, pace, split)))
        print(results[-1].line(), flush=True)
    results.append(asyncio.run(run_raw_amqp(n, producers)))
    print(results[-1].line())
    peer, main_ = results[-1], results[1]
    print(f"\noutbox path / raw broker throughput: "
          f"{(main_.events / main_.seconds) / (peer.events / peer.seconds):.2f}x")


if __name__ == "__main__":
    main()
