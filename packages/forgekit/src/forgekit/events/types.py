"""Typed event types: an event's name together with the model of its payload.

Each product keeps its own catalogue of :class:`EventType` values (the kit declares only its own,
in :mod:`forgekit.identity.events`). An ``EventType`` *is* its dotted name -- a ``str`` usable
as a routing key, a subscription pattern or a dict key -- and also knows its payload model, so
producers build payloads that validate and consumers read typed fields instead of coercing
dictionaries.
"""

from __future__ import annotations

from typing import Any, Generic, Self, TypeVar

from pydantic import BaseModel, ValidationError

from forgekit.events.envelope import Event, MalformedEventError
from forgekit.events.patterns import validate_routing_key

P = TypeVar("P", bound=BaseModel)


class EventType(str, Generic[P]):
    """An event type name (``"project.created"``) bound to its payload model."""

    payload_model: type[P]

    def __new__(cls, name: str, payload_model: type[P]) -> Self:
        """Declare event type ``name`` whose payloads are ``payload_model`` instances."""
        self = super().__new__(cls, validate_routing_key(name))
        self.payload_model = payload_model
        return self

    def payload(self, **fields: Any) -> P:
        """A validated payload for this event type (raises ``ValidationError``)."""
        return self.payload_model(**fields)

    def parse(self, event: Event) -> P:
        """The payload of ``event`` as this type's model.

        Raises :class:`MalformedEventError` when ``event`` is of another type or its payload
        does not validate: retrying cannot fix either.
        """
        if event.type != self:
            raise MalformedEventError(f"expected a {self!s} event, got {event.type}")
        try:
            return self.payload_model.model_validate(event.payload)
        except ValidationError as exc:
            raise MalformedEventError(f"{event.type} payload: {exc}") from exc
