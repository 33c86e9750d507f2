"""The event system end to end, on both backends (SQLite + in-process bus; PostgreSQL +
RabbitMQ). Handlers count their side effects in a table, so "exactly once in effect" is
checked in the database, not in memory."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Callable
from typing import Any

import aio_pika
import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from forgekit.db import Database
from forgekit.events import Event, EventBus, create_event_bus, enqueue, outbox_stats
from forgekit.events.audit import register_audit
from forgekit.events.consumer import Outcome, Subscription, deliver
from forgekit.events.inprocess import InProcessEventBus, dead_letters
from forgekit.events.models import AuditLog, OutboxMessage, ProcessedEvent
from forgekit.events.outbox import current_event
from forgekit.events.rabbitmq import ERROR_HEADER, RETRY_HEADER, RabbitMQEventBus
from forgekit.settings import ForgeSettings
from forgekit.testing.faults import TcpProxy

test_meta = MetaData()
effects = Table(
    "test_event_effects",
    test_meta,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("consumer", String(100), nullable=False),
    Column("event_id", String(36), nullable=False),
    Column("event_type", String(100), nullable=False),
)


def counting(consumer: str, delay: float = 0.0) -> Callable[[Event, AsyncSession], Any]:
    """A handler that records one side-effect row per handled event."""

    async def handler(event: Event, session: AsyncSession) -> None:
        if delay:
            await asyncio.sleep(delay)
        await session.execute(
            effects.insert().values(
                consumer=consumer, event_id=str(event.id), event_type=event.type
            )
        )

    return handler


async def effect_ids(db: Database, consumer: str = "counter") -> list[str]:
    async with db.session() as s:
        rows = await s.execute(select(effects.c.event_id).where(effects.c.consumer == consumer))
        return [r[0] for r in rows]


@pytest.fixture
async def db(forge_settings: ForgeSettings) -> AsyncIterator[Database]:
    database = Database(forge_settings.effective_database_url)
    async with database.engine.begin() as conn:
        await conn.run_sync(test_meta.create_all)
    yield database
    await database.dispose()


BusFactory = Callable[..., EventBus]


@pytest.fixture
async def make_bus(forge_settings: ForgeSettings, db: Database) -> AsyncIterator[BusFactory]:
    """Build buses for this test's backend; stops them and deletes the broker topology after."""
    created: list[EventBus] = []

    def make(*, amqp_url: str | None = None, audit: bool = True, **overrides: Any) -> EventBus:
        settings = forge_settings.model_copy(update=overrides)
        bus: EventBus
        if settings.amqp_url:
            if amqp_url is not None:
                settings = settings.model_copy(update={"amqp_url": amqp_url})
            # A publish (or connect) that must succeed gets a busy machine's time; a cut
            # connection fails at once, so the fault tests do not wait on this timeout.
            bus = RabbitMQEventBus(settings, db, reconnect_interval_s=0.2, publish_timeout_s=30)
            if audit:
                register_audit(bus, settings.audit_exclude)
        else:
            bus = InProcessEventBus(settings, db)
            if audit:
                register_audit(bus, settings.audit_exclude)
        created.append(bus)
        return bus

    yield make
    for bus in created:
        await bus.stop(timeout_s=2)
    if forge_settings.amqp_url:
        # One cleanup bus over the real URL knows every queue any bus of this test declared.
        cleanup = RabbitMQEventBus(forge_settings, db)
        names = {n for bus in created for n in bus.subscriptions}
        for name in names:
            cleanup.subscribe(name, ["#"], counting(name))
        await cleanup.delete_topology()


async def test_rollback_never_published(db: Database, make_bus: BusFactory) -> None:
    bus = make_bus()
    bus.subscribe("counter", ["project.*"], counting("counter"))
    await bus.start(consume=True)

    with pytest.raises(RuntimeError):
        async with db.transaction() as s:
            await enqueue(s, "project.created", {"name": "ghost"})
            raise RuntimeError("the change failed")
    async with db.transaction() as s:
        kept = await enqueue(s, "project.created", {"name": "real"})
    await bus.drain(60)

    assert await effect_ids(db) == [str(kept.id)]
    async with db.session() as s:
        assert await s.scalar(select(func.count()).select_from(OutboxMessage)) == 1
        audited = (await s.execute(select(AuditLog.event_id))).scalars().all()
    assert audited == [kept.id]


async def test_commit_delivered_once_and_audited(db: Database, make_bus: BusFactory) -> None:
    bus = make_bus()
    bus.subscribe("counter", ["analysis.*"], counting("counter"))
    bus.subscribe("other", ["project.#"], counting("other"))
    await bus.start(consume=True)

    async with db.transaction() as s:
        event = await enqueue(
            s,
            "analysis.requested",
            {"analysis_id": "a1"},
            metadata={"actor_id": "user-1"},
        )
    await bus.drain(60)

    assert await effect_ids(db) == [str(event.id)]
    assert await effect_ids(db, "other") == []
    async with db.session() as s:
        audit = (await s.execute(select(AuditLog))).scalars().one()
        row = await s.get(OutboxMessage, event.id)
        by_event = select(ProcessedEvent.consumer).where(ProcessedEvent.event_id == event.id)
        processed = (await s.execute(by_event)).scalars().all()
    assert audit.event_type == "analysis.requested" and audit.actor == "user-1"
    assert audit.payload["payload"] == {"analysis_id": "a1"}
    assert audit.occurred_at == event.timestamp
    assert row is not None and row.published_at is not None
    assert sorted(processed) == ["audit", "counter"]
    assert event.metadata["source"] == "forgetest"
    assert await outbox_stats(db) == (0, 0.0)


async def test_audit_leaves_out_excluded_types(db: Database, make_bus: BusFactory) -> None:
    """An excluded type (per-call metering) costs no audit row and no idempotency record;
    every other type is still audited, and other consumers still get the excluded one."""
    bus = make_bus(audit_exclude=["usage.*"])
    bus.subscribe("counter", ["#"], counting("counter"))
    await bus.start(consume=True)

    async with db.transaction() as s:
        metered = await enqueue(s, "usage.recorded", {"n": 1})
        kept = await enqueue(s, "project.created", {"name": "p"})
    await bus.drain(60)

    assert sorted(await effect_ids(db)) == sorted([str(metered.id), str(kept.id)])
    async with db.session() as s:
        audited = (await s.execute(select(AuditLog.event_id))).scalars().all()
        claims = select(ProcessedEvent.consumer).where(ProcessedEvent.event_id == metered.id)
        metered_claims = (await s.execute(claims)).scalars().all()
    assert audited == [kept.id]
    assert metered_claims == ["counter"]
    assert await outbox_stats(db) == (0, 0.0)


async def test_deliver_skips_excluded_type_without_a_transaction(db: Database) -> None:
    sub = Subscription(name="audit", patterns=("#",), handler=counting("audit"),
                       exclude=("usage.recorded",))
    event = Event(type="usage.recorded", payload={"n": 1})
    assert await deliver(db, sub, event) is Outcome.SKIPPED
    assert await effect_ids(db, "audit") == []
    with pytest.raises(ValueError):
        Subscription(name="x", patterns=("#",), handler=counting("x"), exclude=("a..b",))


async def test_factory_picks_backend_and_registers_audit(
    forge_settings: ForgeSettings, db: Database
) -> None:
    bus = create_event_bus(forge_settings, db)
    expected = RabbitMQEventBus if forge_settings.amqp_url else InProcessEventBus
    assert isinstance(bus, expected)
    assert "audit" in bus.subscriptions
    await bus.start(consume=True)
    try:
        event = await bus.emit("system.health_check", {"ok": True})
        await bus.drain(60)
        async with db.session() as s:
            assert (await s.execute(select(AuditLog.event_id))).scalars().all() == [event.id]
    finally:
        await bus.stop()
        await bus.delete_topology()


async def test_duplicate_delivery_handled_once(db: Database, make_bus: BusFactory) -> None:
    bus = make_bus()
    bus.subscribe("counter", ["project.*"], counting("counter"))
    await bus.start(consume=True)
    async with db.transaction() as s:
        event = await enqueue(s, "project.updated", {"n": 1})
    await bus.drain(60)

    # The relay crashed after publishing but before marking the row: it goes out again.
    async with db.transaction() as s:
        await s.execute(
            update(OutboxMessage).where(OutboxMessage.id == event.id).values(published_at=None)
        )
    await bus.drain(60)
    if isinstance(bus, RabbitMQEventBus):
        # And the broker delivers the very same message twice more.
        conn = await aio_pika.connect(bus.url)
        async with conn:
            channel = await conn.channel()
            exchange = await channel.get_exchange(bus.exchange_name)
            for _ in range(2):
                await exchange.publish(
                    aio_pika.Message(event.to_json(), message_id=str(event.id)),
                    routing_key=event.type,
                )
        await bus.drain(60)
    # Delivering directly, as a second worker racing the first would, is a no-op too.
    assert await deliver(db, bus.subscriptions["counter"], event) is Outcome.DUPLICATE

    assert await effect_ids(db) == [str(event.id)]
    async with db.session() as s:
        assert await s.scalar(select(func.count()).select_from(AuditLog)) == 1


async def test_failing_handler_retries_with_backoff(db: Database, make_bus: BusFactory) -> None:
    base = 0.1
    bus = make_bus(consumer_retry_base_s=base, consumer_max_retries=5)
    attempts: list[float] = []
    loop = asyncio.get_running_loop()

    async def flaky(event: Event, session: AsyncSession) -> None:
        attempts.append(loop.time())
        # The failure must roll back what the handler wrote before raising.
        await counting("counter")(event, session)
        if len(attempts) < 3:
            raise ConnectionError("downstream unavailable")

    bus.subscribe("counter", ["analysis.completed"], flaky)
    await bus.start(consume=True)
    event = await bus.emit("analysis.completed", {"id": 7})
    await bus.drain(60)

    assert len(attempts) == 3
    gaps = [b - a for a, b in zip(attempts, attempts[1:])]
    assert gaps[0] >= base * 0.9 and gaps[1] >= 2 * base * 0.9, gaps
    assert await effect_ids(db) == [str(event.id)]


async def test_always_failing_handler_dead_lettered(db: Database, make_bus: BusFactory) -> None:
    bus = make_bus(consumer_retry_base_s=0.02, consumer_max_retries=2)
    calls = Counter[str]()

    async def broken(event: Event, session: AsyncSession) -> None:
        calls[str(event.id)] += 1
        raise ValueError("cannot handle this")

    bus.subscribe("broken", ["system.alert"], broken)
    await bus.start(consume=True)
    event = await bus.emit("system.alert", {"level": "high"})
    await bus.drain(60)

    assert calls[str(event.id)] == 3  # the first try and two retries
    depths = await bus.queue_depths()
    if isinstance(bus, RabbitMQEventBus):
        main, retry, dlq = bus.queue_names("broken")
        assert depths[main] == 0 and depths[retry] == 0 and depths[dlq] == 1
        conn = await aio_pika.connect(bus.url)
        async with conn:
            channel = await conn.channel()
            queue = await channel.get_queue(dlq)
            message = await queue.get(timeout=30)
            assert message is not None
            assert Event.from_json(message.body).id == event.id
            assert message.headers[RETRY_HEADER] == 2
            assert "cannot handle this" in str(message.headers[ERROR_HEADER])
            await message.ack()
    else:
        assert depths["broken.dlq"] == 1
        (dead,) = await dead_letters(db, "broken")
        assert dead.event_id == event.id and dead.attempts == 3
        assert "cannot handle this" in dead.error
    # Other consumers are not held back by the broken one.
    async with db.session() as s:
        assert (await s.execute(select(AuditLog.event_id))).scalars().all() == [event.id]


async def test_malformed_message_dead_lettered(db: Database, make_bus: BusFactory) -> None:
    bus = make_bus(consumer_max_retries=3)
    bus.subscribe("counter", ["project.*"], counting("counter"))
    await bus.start(consume=True)
    if isinstance(bus, RabbitMQEventBus):
        conn = await aio_pika.connect(bus.url)
        async with conn:
            channel = await conn.channel()
            exchange = await channel.get_exchange(bus.exchange_name)
            await exchange.publish(aio_pika.Message(b"{not an envelope"), routing_key="project.x")
        await bus.drain(60)
        depths = await bus.queue_depths()
        assert depths[bus.queue_names("counter")[2]] == 1
        assert depths[bus.queue_names("audit")[2]] == 1
    else:
        # Only a hand-written row can be malformed in the embedded bus.
        async with db.transaction() as s:
            s.add(OutboxMessage(id=uuid.uuid4(), event_type="project.x", payload={"junk": 1}))
        await bus.drain(60)
        (dead,) = await dead_letters(db)
        assert dead.consumer == "*" and "malformed" in dead.error
    assert await effect_ids(db) == []
    # The bus keeps working after it.
    event = await bus.emit("project.created", {})
    await bus.drain(60)
    assert await effect_ids(db) == [str(event.id)]


async def test_nothing_lost_while_relay_cannot_publish(
    db: Database, make_bus: BusFactory, forge_settings: ForgeSettings
) -> None:
    """Events committed while the broker (or, embedded, the dispatcher) is down all arrive."""
    first, second = 20, 20
    if forge_settings.amqp_url:
        proxy = TcpProxy(5672)
        await proxy.up()
        url = forge_settings.amqp_url.replace("127.0.0.1:5672", f"127.0.0.1:{proxy.port}")
        await proxy.down()  # the port is now closed: the relay cannot connect
        # An API process: relays, does not consume, but knows the consumers' queues.
        relay = make_bus(amqp_url=url)
        relay.subscribe("counter", ["project.*"], counting("counter"))
        await relay.start(consume=False)
        for i in range(first):
            await relay.emit("project.created", {"i": i})
        await asyncio.sleep(0.5)
        assert (await outbox_stats(db))[0] == first
        await proxy.up()  # the broker is back
        await relay.drain(60)
        # Cut the established connection mid-stream and keep committing.
        await proxy.down()
        for i in range(second):
            await relay.emit("project.created", {"i": first + i})
        await asyncio.sleep(0.3)
        await proxy.up()
        await relay.drain(60)
        worker = make_bus()
    else:
        # No consuming process yet: events wait, committed, in the outbox.
        api = make_bus()
        api.subscribe("counter", ["project.*"], counting("counter"))
        await api.start(consume=False)
        for i in range(first + second):
            await api.emit("project.created", {"i": i})
        await api.drain(60)
        assert (await outbox_stats(db))[0] == first + second
        worker = make_bus()
    worker.subscribe("counter", ["project.*"], counting("counter"))
    await worker.start(consume=True)
    await worker.drain(60)
    ids = await effect_ids(db)
    assert len(ids) == first + second and len(set(ids)) == len(ids)
    assert (await outbox_stats(db))[0] == 0


async def test_consumer_restart_mid_stream(db: Database, make_bus: BusFactory) -> None:
    """A worker stopped hard in the middle of a stream: nothing lost, nothing doubled."""
    total = 60
    first = make_bus(audit=False)
    record = counting("counter")
    never, stalled = asyncio.Event(), asyncio.Event()

    async def stalls_after_ten(event: Event, session: AsyncSession) -> None:
        # The first ten complete; the rest hang (inside their transaction) until the worker is
        # killed, so the stop lands mid-stream with handlers in flight on any machine.
        await record(event, session)
        if event.payload["i"] >= 10:
            stalled.set()
            await never.wait()

    first.subscribe("counter", ["project.*"], stalls_after_ten)
    await first.start(consume=True)
    async with db.transaction() as s:
        sent = [await enqueue(s, "project.updated", {"i": i}) for i in range(total)]
    await asyncio.wait_for(stalled.wait(), 60)
    await asyncio.sleep(0.1)  # let more handlers start and stall where the backend allows
    # In-flight handlers are cancelled and roll back. (On SQLite a stalled handler holds the
    # single write lock, so the database is only read once the worker is gone.)
    await first.stop(timeout_s=0)
    handled_before = len(await effect_ids(db))
    assert handled_before < total

    second = make_bus(audit=False)
    second.subscribe("counter", ["project.*"], counting("counter"))
    await second.start(consume=True)
    await second.drain(60)
    ids = await effect_ids(db)
    assert sorted(ids) == sorted(str(e.id) for e in sent)


async def test_handler_events_carry_correlation(db: Database, make_bus: BusFactory) -> None:
    bus = make_bus()
    seen: list[Event] = []

    async def chain(event: Event, session: AsyncSession) -> None:
        assert current_event.get() == event
        await enqueue(session, "analysis.completed", {"for": str(event.id)})

    async def collect(event: Event, session: AsyncSession) -> None:
        seen.append(event)

    bus.subscribe("chain", ["analysis.requested"], chain)
    bus.subscribe("collect", ["analysis.completed"], collect)
    await bus.start(consume=True)
    first = await bus.emit(
        "analysis.requested", {}, metadata={"actor_id": "u9", "request_id": "req-1"}
    )
    await bus.drain(60)
    (follow,) = seen
    assert follow.metadata["causation_id"] == str(first.id)
    assert follow.metadata["correlation_id"] == "req-1" == first.correlation_id
    assert follow.actor_id == "u9"


async def test_outbox_stats_and_queue_depths(db: Database, make_bus: BusFactory) -> None:
    bus = make_bus()
    bus.subscribe("counter", ["project.*"], counting("counter"))
    # Not started: the rows wait, and their age grows.
    for _ in range(3):
        await bus.emit("project.created", {})
    await asyncio.sleep(0.05)
    pending, age = await outbox_stats(db)
    assert pending == 3 and age > 0
    await bus.start(consume=True)
    await bus.drain(60)
    assert await outbox_stats(db) == (0, 0.0)
    depths = await bus.queue_depths()
    assert depths and all(v == 0 for v in depths.values())


async def test_subscribe_after_start_refused(make_bus: BusFactory) -> None:
    bus = make_bus()
    await bus.start(consume=False)
    with pytest.raises(RuntimeError):
        bus.subscribe("late", ["#"], counting("late"))


async def test_delete_topology_removes_queues_and_exchanges(
    db: Database, make_bus: BusFactory, forge_settings: ForgeSettings
) -> None:
    bus = make_bus()
    bus.subscribe("counter", ["project.*"], counting("counter"))
    await bus.start(consume=True)
    await bus.stop()
    await bus.delete_topology()
    if isinstance(bus, RabbitMQEventBus):
        conn = await aio_pika.connect(bus.url)
        async with conn:
            for name in (*bus.queue_names("counter"), *bus.queue_names("audit")):
                channel = await conn.channel()
                with pytest.raises(aio_pika.exceptions.ChannelNotFoundEntity):
                    await channel.declare_queue(name, passive=True)
            for name in (bus.exchange_name, bus.dlx_name):
                channel = await conn.channel()
                with pytest.raises(aio_pika.exceptions.ChannelNotFoundEntity):
                    await channel.declare_exchange(name, passive=True)
    else:
        assert await bus.queue_depths() == {
            "counter": 0,
            "counter.dlq": 0,
            "audit": 0,
            "audit.dlq": 0,
        }
