"""Event consumers of notifications (group ``notify``: ``pyforge worker --queues notify``).

- ``notify.dispatch``: email and Slack deliveries for each recipient's preferences;
- ``notify.webhooks``: one delivery per subscribed project webhook;
- ``notify.live``: the event to WebSocket clients (Redis pub/sub or in-process).

Each runs in the kit's delivery transaction with its idempotency record, and the delivery
rows are unique per (event, channel, recipient): a redelivered event queues nothing new.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncSession

from forgekit.events import Event
from pyforge.notify import events as ev
from pyforge.notify.context import NotifyContext, build_context
from pyforge.notify.service import dispatch

if TYPE_CHECKING:
    from pyforge.runtime import PyForgeRuntime

DISPATCH_CONSUMER = "notify.dispatch"
WEBHOOKS_CONSUMER = "notify.webhooks"
LIVE_CONSUMER = "notify.live"


def register(runtime: PyForgeRuntime) -> NotifyContext:
    """Build the notification components, subscribe the consumers, add the services."""
    ctx = build_context(runtime)
    runtime.notify = ctx
    runtime.services.append(ctx.worker)
    runtime.services.append(ctx.hub)

    async def on_personal(event: Event, session: AsyncSession) -> None:
        await dispatch.plan_personal(session, ctx, event)

    async def on_webhooks(event: Event, session: AsyncSession) -> None:
        await dispatch.plan_webhooks(session, ctx, event)

    async def on_live(event: Event, session: AsyncSession) -> None:
        await dispatch.publish_live(ctx, event)

    runtime.events.subscribe(DISPATCH_CONSUMER, list(ev.NOTIFIABLE_EVENT_TYPES), on_personal)
    runtime.events.subscribe(WEBHOOKS_CONSUMER, list(ev.PROJECT_EVENT_TYPES), on_webhooks)
    # Progress events are frequent and worthless late: a larger prefetch keeps them flowing.
    runtime.events.subscribe(LIVE_CONSUMER, list(ev.PROJECT_EVENT_TYPES), on_live, prefetch=50)
    return ctx
