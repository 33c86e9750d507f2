"""Picks the event bus for the settings: RabbitMQ when an AMQP URL is set, else in-process."""

from __future__ import annotations

from forgekit.db import Database
from forgekit.events.bus import EventBus
from forgekit.settings import ForgeSettings


def create_event_bus(settings: ForgeSettings, db: Database, *, audit: bool = True) -> EventBus:
    """RabbitMQ when ``settings.amqp_url`` is set, else the in-process bus over the outbox.

    The audit consumer (every event into ``audit_logs`` but ``settings.audit_exclude``) is
    registered unless ``audit`` is False.
    """
    bus: EventBus
    if settings.amqp_url:
        from forgekit.events.rabbitmq import RabbitMQEventBus

        bus = RabbitMQEventBus(settings, db)
    else:
        from forgekit.events.inprocess import InProcessEventBus

        bus = InProcessEventBus(settings, db)
    if audit:
        from forgekit.events.audit import register_audit

        register_audit(bus, settings.audit_exclude)
    return bus
