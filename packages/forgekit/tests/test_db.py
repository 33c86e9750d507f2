"""Database layer: UTC timestamps, concurrent writers on SQLite, the repository base."""

import asyncio
import uuid
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import String, select, text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from forgekit.db import Database, Repository, SoftDeleteMixin, TimestampMixin, UUIDPrimaryKey
from forgekit.db.types import UTCDateTime


class ScratchBase(DeclarativeBase):
    """Own metadata, so this test table never appears in the app's migrations check."""


class Widget(UUIDPrimaryKey, TimestampMixin, SoftDeleteMixin, ScratchBase):
    __tablename__ = "test_widgets"
    name: Mapped[str] = mapped_column(String(50))
    seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class WidgetRepository(Repository[Widget]):
    model = Widget


@pytest.fixture
async def db(database_url: str):
    database = Database(database_url)
    async with database.engine.begin() as conn:
        await conn.run_sync(Widget.__table__.create)
    yield database
    async with database.engine.begin() as conn:
        await conn.run_sync(Widget.__table__.drop)
    await database.dispose()


async def test_timestamps_come_back_aware_utc(db: Database) -> None:
    plus_two = timezone(timedelta(hours=2))
    async with db.transaction() as s:
        w = await WidgetRepository(s).add(
            Widget(name="a", seen_at=datetime(2026, 1, 1, 12, tzinfo=plus_two))
        )
    async with db.session() as s:
        loaded = await WidgetRepository(s).get(w.id)
    assert loaded is not None
    assert loaded.seen_at == datetime(2026, 1, 1, 10, tzinfo=UTC)
    assert loaded.seen_at.tzinfo is not None and loaded.created_at.tzinfo is not None
    assert isinstance(loaded.id, uuid.UUID)


async def test_naive_datetimes_are_refused(db: Database) -> None:
    with pytest.raises(Exception, match="naive datetime"):
        async with db.transaction() as s:
            await WidgetRepository(s).add(Widget(name="b", seen_at=datetime(2026, 1, 1)))


async def test_soft_delete_hides_rows_and_count(db: Database) -> None:
    async with db.transaction() as s:
        repo = WidgetRepository(s)
        keep = await repo.add(Widget(name="keep"))
        gone = await repo.add(Widget(name="gone"))
        await repo.delete(gone)
    async with db.session() as s:
        repo = WidgetRepository(s)
        assert await repo.get(gone.id) is None
        assert await repo.get(gone.id, include_deleted=True) is not None
        assert [w.id for w in await repo.all(repo.select_all())] == [keep.id]
        assert await repo.count(repo.select_all(include_deleted=True)) == 2


async def test_concurrent_read_then_write_transactions_all_commit(db: Database) -> None:
    """Each transaction reads the counter then writes: none may fail with 'database is locked'."""
    async with db.transaction() as s:
        await WidgetRepository(s).add(Widget(name="0"))

    async def bump() -> None:
        async with db.transaction() as s:
            row = (await s.execute(select(Widget))).scalars().one()
            await asyncio.sleep(0.01)  # widen the window between the read and the write
            row.name = str(int(row.name) + 1)

    await asyncio.gather(*(bump() for _ in range(20)))
    async with db.session() as s:
        # PostgreSQL's read committed may lose updates here; SQLite serialises them. Either way
        # every transaction committed without an error, which is what this test is about.
        name = (await s.execute(select(Widget.name))).scalar_one()
    assert 1 <= int(name) <= 20
    if db.is_sqlite:
        assert name == "20"
        async with db.session() as s:
            assert (await s.execute(text("PRAGMA journal_mode"))).scalar() == "wal"
            assert (await s.execute(text("PRAGMA foreign_keys"))).scalar() == 1
