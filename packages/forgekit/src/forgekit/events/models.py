"""Tables of the event system: the outbox, idempotency records, dead letters and the audit log."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Index, Integer, String, Text, UniqueConstraint, Uuid, text
from sqlalchemy.orm import Mapped, mapped_column

from forgekit.db.base import Base, UUIDPrimaryKey, utcnow
from forgekit.db.types import JSONType, UTCDateTime


class OutboxMessage(Base):
    """An event written in the producer's transaction, waiting for the relay to publish it.

    The primary key is the event id, so the envelope in ``payload`` and the row agree and a
    row can never be enqueued twice. ``available_at`` delays the next attempt: the embedded
    bus uses it for retry backoff and as a lease while a dispatcher works on the row.
    """

    __tablename__ = "outbox_messages"
    __table_args__ = (
        # The relay only ever scans unpublished rows in creation order; a partial index keeps
        # that scan small however many published rows are retained.
        Index(
            "ix_outbox_messages_unpublished",
            "created_at",
            postgresql_where=text("published_at IS NULL"),
            sqlite_where=text("published_at IS NULL"),
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    event_type: Mapped[str] = mapped_column(String(255), nullable=False)
    payload: Mapped[dict[str, Any]] = mapped_column(JSONType, nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    available_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)


class ProcessedEvent(UUIDPrimaryKey, Base):
    """Idempotency record: ``consumer`` has handled ``event_id`` (committed with its effects)."""

    __tablename__ = "processed_events"
    __table_args__ = (UniqueConstraint("consumer", "event_id"),)

    consumer: Mapped[str] = mapped_column(String(200), nullable=False)
    event_id: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False)
    processed_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)


class DeadLetter(UUIDPrimaryKey, Base):
    """An event a consumer of the embedded bus gave up on (RabbitMQ keeps these in its DLQ)."""

    __tablename__ = "dead_letters"
    __table_args__ = (UniqueConstraint("consumer", "event_id"),)

    consumer: Mapped[str] = mapped_column(String(200), nullable=False)
    event_id: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False)
    event_type: Mapped[str] = mapped_column(String(255), nullable=False)
    payload: Mapped[Any] = mapped_column(JSONType, nullable=False)
    error: Mapped[str] = mapped_column(Text, nullable=False)
    attempts: Mapped[int] = mapped_column(Integer, nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)


class AuditLog(UUIDPrimaryKey, Base):
    """One row per event ever published, written by the audit consumer."""

    __tablename__ = "audit_logs"

    event_id: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False, unique=True)
    event_type: Mapped[str] = mapped_column(String(255), nullable=False, index=True)
    actor: Mapped[str | None] = mapped_column(String(255), nullable=True, index=True)
    payload: Mapped[dict[str, Any]] = mapped_column(JSONType, nullable=False)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, index=True)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
