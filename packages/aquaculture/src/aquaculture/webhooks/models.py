"""A farm's webhooks and their delivery log (the kit's columns, Aquaculture's tables).

The delivery log is also the idempotency record: ``dedupe_key`` is unique per (event,
webhook), so a redelivered ``aquaculture.batch.finished`` cannot call a webhook twice.
"""

from __future__ import annotations

import uuid

from sqlalchemy import ForeignKey, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from forgekit.db.base import Base, TimestampMixin
from forgekit.webhooks.models import (
    DeliveryAttemptMixin,
    DeliveryMixin,
    WebhookEndpointMixin,
    delivery_table_args,
)


class FarmWebhook(WebhookEndpointMixin, TimestampMixin, Base):
    """A farm's HTTP endpoint receiving signed ``job.completed`` / ``job.failed`` calls."""

    __tablename__ = "aqua_webhooks"

    farm_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("aqua_farms.id", ondelete="CASCADE"), nullable=False, index=True
    )
    created_by: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )


class WebhookDelivery(DeliveryMixin, Base):
    """One call of one webhook for one event (see the kit's mixin)."""

    __tablename__ = "aqua_webhook_deliveries"
    webhook_table = "aqua_webhooks"

    farm_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True, index=True)

    __table_args__ = delivery_table_args("aqua_webhook_deliveries")


class WebhookAttempt(DeliveryAttemptMixin, Base):
    """One try of a delivery: when, the HTTP status (if any), latency and error."""

    __tablename__ = "aqua_webhook_attempts"
    delivery_table = "aqua_webhook_deliveries"
