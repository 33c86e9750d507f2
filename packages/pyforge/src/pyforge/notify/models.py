"""Notification tables: preferences, webhooks, and the delivery log with its attempts.

The delivery log is also the idempotency record of notifications: ``dedupe_key`` is unique
per (event, channel, recipient), so an event handled twice cannot queue a second email,
Slack message or webhook call.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from forgekit.db.base import Base, TimestampMixin, UUIDPrimaryKey, utcnow
from forgekit.db.types import JSONType, UTCDateTime

#: ``NotificationPreference.scope`` of a user's defaults (a project override holds its id).
GLOBAL_SCOPE = "*"


class DeliveryStatus(StrEnum):
    """Where a delivery stands."""

    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class ChannelName(StrEnum):
    """Channels that go through the delivery log (WebSocket events are live only)."""

    EMAIL = "email"
    SLACK = "slack"
    WEBHOOK = "webhook"


class NotificationPreference(UUIDPrimaryKey, TimestampMixin, Base):
    """A user's choice of channels per event type, for all projects or one project.

    ``events`` maps an event type to channel names (``{"analysis.failed": ["email"]}``);
    types absent from it use the defaults. A project row overrides the user's global row.
    """

    __tablename__ = "notification_preferences"

    user_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True
    )
    project_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("projects.id", ondelete="CASCADE"), nullable=True, index=True
    )
    #: "*" for the global row, else the project id: unique with the user, which a nullable
    #: project_id could not be (NULLs are distinct in unique constraints).
    scope: Mapped[str] = mapped_column(String(36), nullable=False)
    events: Mapped[dict[str, list[str]]] = mapped_column(JSONType, nullable=False, default=dict)
    #: The Slack incoming-webhook URL, encrypted (it is a bearer credential for the channel).
    slack_webhook_encrypted: Mapped[str | None] = mapped_column(Text, nullable=True)

    __table_args__ = (UniqueConstraint("user_id", "scope"),)


class Webhook(UUIDPrimaryKey, TimestampMixin, Base):
    """A project's HTTP endpoint receiving signed event deliveries."""

    __tablename__ = "webhooks"

    project_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("projects.id", ondelete="CASCADE"), nullable=False, index=True
    )
    url: Mapped[str] = mapped_column(String(2048), nullable=False)
    events: Mapped[list[str]] = mapped_column(JSONType, nullable=False, default=list)
    #: The signing secret, encrypted; never returned by the API.
    secret_encrypted: Mapped[str] = mapped_column(Text, nullable=False)
    description: Mapped[str | None] = mapped_column(String(500), nullable=True)
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    created_by: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )


class Delivery(UUIDPrimaryKey, Base):
    """One notification to one recipient over one channel, and its state.

    ``body`` is what is sent: the event envelope (webhook), the Slack payload, or the rendered
    email (``subject``/``text``/``html``). ``target`` is the email address, or the encrypted
    Slack URL; a webhook's URL and secret are read from the webhook at each attempt.
    """

    __tablename__ = "notification_deliveries"

    dedupe_key: Mapped[str] = mapped_column(String(200), nullable=False, unique=True)
    event_id: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False, index=True)
    event_type: Mapped[str] = mapped_column(String(100), nullable=False)
    project_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True, index=True)
    channel: Mapped[str] = mapped_column(String(16), nullable=False)
    recipient: Mapped[str] = mapped_column(String(64), nullable=False)
    webhook_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("webhooks.id", ondelete="CASCADE"), nullable=True
    )
    user_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("users.id", ondelete="CASCADE"), nullable=True, index=True
    )
    target: Mapped[str | None] = mapped_column(Text, nullable=True)
    body: Mapped[dict[str, Any]] = mapped_column(JSONType, nullable=False, default=dict)
    status: Mapped[str] = mapped_column(
        String(16), nullable=False, default=DeliveryStatus.PENDING.value
    )
    attempt_count: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    #: When the delivery loop may pick it up next (also its lease while an attempt runs).
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    #: The delivery this one re-sends (``POST .../redeliver``).
    redelivery_of: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True)

    __table_args__ = (
        Index("ix_notification_deliveries_due", "status", "next_attempt_at"),
        Index("ix_notification_deliveries_webhook", "webhook_id", "created_at"),
    )


class DeliveryAttempt(UUIDPrimaryKey, Base):
    """One try of a delivery: when, the HTTP status (if any), latency and error."""

    __tablename__ = "notification_attempts"

    delivery_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("notification_deliveries.id", ondelete="CASCADE"), nullable=False,
        index=True,
    )
    number: Mapped[int] = mapped_column(Integer, nullable=False)
    at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    status_code: Mapped[int | None] = mapped_column(Integer, nullable=True)
    latency_ms: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    response_excerpt: Mapped[str | None] = mapped_column(Text, nullable=True)
