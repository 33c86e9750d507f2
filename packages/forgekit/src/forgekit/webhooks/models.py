"""Columns of the delivery log, as mixins: each product declares its own tables with them.

A product owns its tables (their names, the foreign keys to its own rows, e.g. the record a
webhook belongs to, and its migrations); the kit owns the columns the delivery loop reads and
writes. A product declares three classes on the kit's ``Base``::

    class Hook(WebhookEndpointMixin, TimestampMixin, Base):
        __tablename__ = "shop_webhooks"
        shop_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"))

    class HookDelivery(DeliveryMixin, Base):
        __tablename__ = "shop_deliveries"
        webhook_table = "shop_webhooks"
        __table_args__ = delivery_table_args("shop_deliveries")

    class HookAttempt(DeliveryAttemptMixin, Base):
        __tablename__ = "shop_delivery_attempts"
        delivery_table = "shop_deliveries"

The delivery log is also the idempotency record of notifications: ``dedupe_key`` is unique, so
an event handled twice cannot queue a second delivery to the same recipient.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any, ClassVar

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, Uuid
from sqlalchemy.orm import Mapped, declared_attr, mapped_column

from forgekit.db.base import UUIDPrimaryKey, utcnow
from forgekit.db.types import JSONType, UTCDateTime


class DeliveryStatus(StrEnum):
    """Where a delivery stands."""

    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class ChannelName(StrEnum):
    """The channels the kit provides (a product may register others under its own names)."""

    EMAIL = "email"
    SLACK = "slack"
    WEBHOOK = "webhook"


class WebhookEndpointMixin(UUIDPrimaryKey):
    """An HTTP endpoint receiving signed event deliveries."""

    url: Mapped[str] = mapped_column(String(2048), nullable=False)
    events: Mapped[list[str]] = mapped_column(JSONType, nullable=False, default=list)
    #: The signing secret, encrypted (:class:`forgekit.webhooks.secretbox.SecretBox`); never
    #: returned by an API.
    secret_encrypted: Mapped[str] = mapped_column(Text, nullable=False)
    description: Mapped[str | None] = mapped_column(String(500), nullable=True)
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)


class DeliveryMixin(UUIDPrimaryKey):
    """One notification to one recipient over one channel, and its state.

    ``body`` is what is sent (a webhook's event envelope, a Slack payload, a rendered email);
    ``target`` is the channel's address (an email address, an encrypted Slack URL). A
    webhook's URL and secret are read from its endpoint row at each attempt, so an edited or
    deactivated webhook takes effect on pending deliveries.
    """

    #: The name of the product's endpoint table (``webhook_id`` references it).
    webhook_table: ClassVar[str]

    dedupe_key: Mapped[str] = mapped_column(String(200), nullable=False, unique=True)
    event_id: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False, index=True)
    event_type: Mapped[str] = mapped_column(String(100), nullable=False)
    channel: Mapped[str] = mapped_column(String(16), nullable=False)
    recipient: Mapped[str] = mapped_column(String(64), nullable=False)
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
    #: The delivery this one re-sends (a manual redelivery).
    redelivery_of: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True)

    @declared_attr
    def webhook_id(cls) -> Mapped[uuid.UUID | None]:  # noqa: N805 (a class-level attribute)
        """The endpoint of a webhook delivery (None for other channels)."""
        return mapped_column(
            Uuid, ForeignKey(f"{cls.webhook_table}.id", ondelete="CASCADE"), nullable=True
        )


def delivery_table_args(tablename: str) -> tuple[Index, ...]:
    """The delivery table's indexes: due rows for the loop, a webhook's log newest first."""
    return (
        Index(f"ix_{tablename}_due", "status", "next_attempt_at"),
        Index(f"ix_{tablename}_webhook", "webhook_id", "created_at"),
    )


class DeliveryAttemptMixin(UUIDPrimaryKey):
    """One try of a delivery: when, the HTTP status (if any), latency and error."""

    #: The name of the product's delivery table (``delivery_id`` references it).
    delivery_table: ClassVar[str]

    number: Mapped[int] = mapped_column(Integer, nullable=False)
    at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    status_code: Mapped[int | None] = mapped_column(Integer, nullable=True)
    latency_ms: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    response_excerpt: Mapped[str | None] = mapped_column(Text, nullable=True)

    @declared_attr
    def delivery_id(cls) -> Mapped[uuid.UUID]:  # noqa: N805 (a class-level attribute)
        """The delivery this attempt belongs to (attempts go with it)."""
        return mapped_column(
            Uuid, ForeignKey(f"{cls.delivery_table}.id", ondelete="CASCADE"), nullable=False,
            index=True,
        )
