"""The event envelope every producer writes and every consumer receives (seed 000, Day 3).

An event is the seed's ``id``/``type``/``payload``/``metadata``/``timestamp`` plus a
``schema_version`` so that a payload's shape can evolve while old messages are still queued.
The whole envelope travels as JSON: it is the outbox row's payload and the AMQP message body.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator

from forgekit.db.base import utcnow
from forgekit.events.patterns import validate_routing_key


class MalformedEventError(ValueError):
    """Raised when bytes received from the broker or the outbox are not a valid envelope."""


class Event(BaseModel):
    """One immutable event envelope.

    ``metadata`` carries cross-cutting context: ``request_id`` of the HTTP request that caused
    it, ``actor_id`` (the user or service acting), ``source`` (the emitting app),
    ``correlation_id`` (shared by a whole chain of events) and ``causation_id`` (the event that
    directly caused this one).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: uuid.UUID = Field(default_factory=uuid.uuid4)
    type: str
    payload: dict[str, Any] = Field(default_factory=dict)
    metadata: dict[str, Any] = Field(default_factory=dict)
    timestamp: AwareDatetime = Field(default_factory=utcnow)
    schema_version: int = Field(default=1, ge=1)

    @field_validator("type", mode="before")
    @classmethod
    def _check_type(cls, value: Any) -> str:
        # The type is the AMQP routing key, so it must be dotted words without wildcards.
        if not isinstance(value, str):
            raise ValueError("event type must be a string")
        return validate_routing_key(str(value))

    @field_validator("timestamp")
    @classmethod
    def _to_utc(cls, value: datetime) -> datetime:
        return value.astimezone(UTC)

    @property
    def correlation_id(self) -> str | None:
        """The id shared by every event of one causal chain, if known."""
        value = self.metadata.get("correlation_id")
        return str(value) if value is not None else None

    @property
    def actor_id(self) -> str | None:
        """Who caused the event (a user id or a service name), if known."""
        value = self.metadata.get("actor_id")
        return str(value) if value is not None else None

    def to_json(self) -> bytes:
        """The envelope as UTF-8 JSON (the AMQP message body)."""
        return self.model_dump_json().encode()

    def to_dict(self) -> dict[str, Any]:
        """The envelope as JSON-compatible values (the outbox row's payload)."""
        return self.model_dump(mode="json")

    @classmethod
    def from_json(cls, data: bytes | str) -> Event:
        """Parse an envelope; raises :class:`MalformedEventError` when it is not one."""
        try:
            return cls.model_validate_json(data)
        except ValueError as exc:  # pydantic.ValidationError is a ValueError
            raise MalformedEventError(str(exc)) from exc

    @classmethod
    def from_dict(cls, data: Any) -> Event:
        """Parse an envelope from decoded JSON; raises :class:`MalformedEventError`."""
        try:
            return cls.model_validate(data)
        except ValueError as exc:
            raise MalformedEventError(str(exc)) from exc
