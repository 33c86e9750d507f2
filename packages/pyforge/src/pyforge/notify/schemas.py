"""Request and response bodies of the notifications API."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from forgekit.webhooks.models import ChannelName
from forgekit.webhooks.netguard import MAX_URL_LENGTH
from pyforge.notify.events import NOTIFIABLE_EVENT_TYPES, PROJECT_EVENT_TYPES

#: Channels a preference can name (webhooks are configured per project, WebSockets live).
PREFERENCE_CHANNELS: tuple[str, ...] = (ChannelName.EMAIL.value, ChannelName.SLACK.value)

Url = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1,
                                       max_length=MAX_URL_LENGTH)]


class PreferencesIn(BaseModel):
    """``PUT /api/v1/notifications/preferences``: channels per event type.

    Event types left out keep their default. ``slack_webhook_url``: a string sets it, ``null``
    removes it, leaving it out keeps the stored one.
    """

    model_config = ConfigDict(extra="forbid")

    events: dict[str, list[str]] = Field(
        default_factory=dict,
        examples=[{"analysis.failed": ["email", "slack"], "analysis.completed": []}],
    )
    slack_webhook_url: Url | None = None

    @field_validator("events")
    @classmethod
    def _known(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        for event_type, channels in value.items():
            if event_type not in NOTIFIABLE_EVENT_TYPES:
                raise ValueError(
                    f"unknown event type {event_type!r}; one of {', '.join(NOTIFIABLE_EVENT_TYPES)}"
                )
            for channel in channels:
                if channel not in PREFERENCE_CHANNELS:
                    raise ValueError(
                        f"unknown channel {channel!r}; one of {', '.join(PREFERENCE_CHANNELS)}"
                    )
        # Duplicates are harmless but would read as a bug when echoed back.
        return {k: sorted(set(v)) for k, v in value.items()}


class PreferencesOut(BaseModel):
    """Effective preferences of the caller, globally or for one project."""

    project_id: uuid.UUID | None
    #: Every notifiable event type with the channels it goes to.
    events: dict[str, list[str]]
    #: True when this scope has no row of its own and shows what it inherits.
    inherited: bool
    slack_webhook_configured: bool
    channels: list[str] = Field(default_factory=lambda: list(PREFERENCE_CHANNELS))


class WebhookIn(BaseModel):
    """``POST /api/v1/projects/{id}/webhooks``."""

    model_config = ConfigDict(extra="forbid")

    url: Url
    events: list[str] = Field(min_length=1, examples=[["analysis.completed", "analysis.failed"]])
    secret: Annotated[str, StringConstraints(min_length=16, max_length=256)] = Field(
        description="Shared secret for the PyForge-Signature HMAC; stored encrypted, "
        "never returned."
    )
    description: Annotated[str, StringConstraints(max_length=500)] | None = None

    @field_validator("events")
    @classmethod
    def _known(cls, value: list[str]) -> list[str]:
        for event_type in value:
            if event_type not in PROJECT_EVENT_TYPES:
                raise ValueError(
                    f"unknown event type {event_type!r}; one of {', '.join(PROJECT_EVENT_TYPES)}"
                )
        return sorted(set(value))


class WebhookOut(BaseModel):
    """A webhook as the API shows it: never its secret."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    project_id: uuid.UUID
    url: str
    events: list[str]
    description: str | None
    active: bool
    created_at: datetime


class AttemptOut(BaseModel):
    """One delivery attempt."""

    model_config = ConfigDict(from_attributes=True)

    number: int
    at: datetime
    status_code: int | None
    latency_ms: int
    error: str | None


class DeliveryOut(BaseModel):
    """A webhook delivery and its attempts."""

    id: uuid.UUID
    webhook_id: uuid.UUID | None
    event_id: uuid.UUID
    event_type: str
    status: str
    attempt_count: int
    created_at: datetime
    next_attempt_at: datetime | None
    completed_at: datetime | None
    last_error: str | None
    redelivery_of: uuid.UUID | None
    attempts: list[AttemptOut]
