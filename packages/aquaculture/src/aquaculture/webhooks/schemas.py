"""Request and response bodies of a farm's webhooks."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from forgekit.webhooks.netguard import MAX_URL_LENGTH

#: What a webhook can subscribe to: a batch job ended well, or not.
JOB_COMPLETED = "job.completed"
JOB_FAILED = "job.failed"
WEBHOOK_EVENT_TYPES: tuple[str, ...] = (JOB_COMPLETED, JOB_FAILED)


class WebhookIn(BaseModel):
    """``POST /api/v1/farms/{farm_id}/webhooks``."""

    model_config = ConfigDict(extra="forbid")

    url: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1,
                                          max_length=MAX_URL_LENGTH)]  # fmt: skip
    events: list[str] = Field(default_factory=lambda: list(WEBHOOK_EVENT_TYPES), min_length=1)
    secret: Annotated[str, StringConstraints(min_length=16, max_length=256)] = Field(
        description="Shared secret of the Aquaculture-Signature HMAC (`t=<unix>,v1=<hex>` over "
        "`<t>.<body>`); stored encrypted, never returned."
    )
    description: Annotated[str, StringConstraints(max_length=500)] | None = None

    @field_validator("events")
    @classmethod
    def _known(cls, value: list[str]) -> list[str]:
        unknown = sorted(set(value) - set(WEBHOOK_EVENT_TYPES))
        if unknown:
            raise ValueError(f"unknown event types {unknown}; one of {list(WEBHOOK_EVENT_TYPES)}")
        return sorted(set(value))


class WebhookOut(BaseModel):
    """A webhook as the API shows it: never its secret."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    farm_id: uuid.UUID
    url: str
    events: list[str]
    description: str | None
    active: bool
    created_at: datetime


class WebhookDeliveryOut(BaseModel):
    """One delivery of a webhook: its state and how many attempts it took."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    event_id: uuid.UUID
    event_type: str
    status: str
    attempt_count: int
    created_at: datetime
    completed_at: datetime | None
    last_error: str | None
