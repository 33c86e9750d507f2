"""The webhook consumer (group ``batches``): a finished job plans its farm's deliveries, and
the kit's delivery loop (a service of the same group) sends them, signed, with retries."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncSession

from aquaculture import events
from aquaculture.webhooks.context import WebhookContext, build_context
from aquaculture.webhooks.service import plan_job_deliveries
from forgekit.events import Event

if TYPE_CHECKING:
    from aquaculture.runtime import AquacultureRuntime

CONSUMER = "batches.webhooks"


def register(runtime: AquacultureRuntime) -> WebhookContext:
    """Build the webhook components, subscribe the planner, add the delivery loop."""
    ctx = build_context(runtime)
    runtime.webhooks = ctx
    runtime.services.append(ctx.loop)

    async def on_finished(event: Event, session: AsyncSession) -> None:
        await plan_job_deliveries(session, ctx, event)

    runtime.events.subscribe(CONSUMER, [events.BATCH_FINISHED], on_finished)
    return ctx
