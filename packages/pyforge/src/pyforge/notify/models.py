"""Notification tables: preferences, webhooks, and the delivery log with its attempts.

The delivery log's columns are the kit's (:mod:`forgekit.webhooks.models`); PyForge declares
the tables, scoped to projects. The log is also the idempotency record of notifications:
``dedupe_key`` is unique per (event, channel, recipient), so an event handled twice cannot
queue a second email, Slack message or webhook call.
"""

from __future__ import annotations

import uuid

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from forgekit.db.base import Base, TimestampMixin, UUIDPrimaryKey
from forgekit.db.types import JSONType
from forgekit.webhooks.models import (
    ChannelName,
    DeliveryAttemptMixin,
    DeliveryMixin,
    DeliveryStatus,
    WebhookEndpointMixin,
    delivery_table_args,
)

__all__ = [
    "GLOBAL_SCOPE",
    "ChannelName",
    "Delivery",
    "DeliveryAttempt",
    "DeliveryStatus",
    "NotificationPreference",
    "Webhook",
]

#: ``NotificationPreference.scope`` of a user's defaults (a project override holds its id).
GLOBAL_SCOPE = "*"


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


class Webhook(WebhookEndpointMixin, TimestampMixin, Base):
    """A project's HTTP endpoint receiving signed event deliveries."""

    __tablename__ = "webhooks"

    project_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("projects.id", ondelete="CASCADE"), nullable=False, index=True
    )
    created_by: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )


class Delivery(DeliveryMixin, Base):
    """One notification to one recipient over one channel (see the kit's mixin), with the
    project and user it concerns."""

    __tablename__ = "notification_deliveries"
    webhook_table = "webhooks"

    project_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True, index=True)
    user_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("users.id", ondelete="CASCADE"), nullable=True, index=True
    )

    __table_args__ = delivery_table_args("notification_deliveries")


class DeliveryAttempt(DeliveryAttemptMixin, Base):
    """One try of a delivery: when, the HTTP status (if any), latency and error."""

    __tablename__ = "notification_attempts"
    delivery_table = "notification_deliveries"
