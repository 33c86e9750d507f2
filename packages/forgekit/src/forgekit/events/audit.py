"""The audit consumer: every event, whatever its type, becomes one ``audit_logs`` row, except
the types the deployment excludes (``FORGE_AUDIT_EXCLUDE``; a product declares its high-volume
metering events there, whose own tables already record them).

It is an ordinary consumer (queue ``{prefix}.audit`` bound to ``#``), so the audit trail gets
the same at-least-once delivery and idempotency as any other consumer.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from forgekit.events.bus import EventBus
from forgekit.events.envelope import Event
from forgekit.events.models import AuditLog

AUDIT_CONSUMER = "audit"


async def record_audit(event: Event, session: AsyncSession) -> None:
    """Write ``event`` (the whole envelope) to the audit log."""
    session.add(
        AuditLog(
            event_id=event.id,
            event_type=event.type,
            actor=event.actor_id,
            payload=event.to_dict(),
            occurred_at=event.timestamp,
        )
    )


def register_audit(bus: EventBus, exclude: Sequence[str] = ()) -> None:
    """Subscribe the audit consumer to every event on ``bus`` but those matching ``exclude``."""
    bus.subscribe(AUDIT_CONSUMER, ["#"], record_audit, prefetch=50, exclude=tuple(exclude))
