"""Events: the envelope, the transactional outbox, and the buses that deliver it.

Producers call :func:`enqueue` inside their transaction; consumers are registered with
:meth:`EventBus.subscribe`; :func:`create_event_bus` picks RabbitMQ or the in-process bus.
"""

from forgekit.events.bus import EventBus
from forgekit.events.consumer import Handler, Subscription
from forgekit.events.envelope import Event, MalformedEventError
from forgekit.events.factory import create_event_bus
from forgekit.events.outbox import enqueue, outbox_stats, purge_published
from forgekit.events.patterns import topic_matches
from forgekit.events.types import EventType

__all__ = [
    "Event",
    "EventBus",
    "EventType",
    "Handler",
    "MalformedEventError",
    "Subscription",
    "create_event_bus",
    "enqueue",
    "outbox_stats",
    "purge_published",
    "topic_matches",
]
