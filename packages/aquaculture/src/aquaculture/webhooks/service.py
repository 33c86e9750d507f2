"""A farm's webhooks (farm admins manage them) and the deliveries a finished job plans."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from aquaculture import events
from aquaculture.farms.service import authorize
from aquaculture.permissions import Permission
from aquaculture.webhooks.context import WebhookContext
from aquaculture.webhooks.models import FarmWebhook, WebhookDelivery
from aquaculture.webhooks.repository import DeliveryRepository, WebhookRepository
from aquaculture.webhooks.schemas import JOB_COMPLETED, JOB_FAILED, WebhookIn
from forgekit.db.base import utcnow
from forgekit.errors import Conflict, NotFound, Unprocessable
from forgekit.events import Event
from forgekit.identity.principal import Principal
from forgekit.webhooks.channels import webhook_body
from forgekit.webhooks.models import ChannelName, DeliveryStatus
from forgekit.webhooks.netguard import BlockedDestinationError, check_url

MAX_WEBHOOKS_PER_FARM = 10


class FarmWebhookService:
    """Register, list and remove a farm's webhooks; read their delivery log."""

    async def create(
        self, session: AsyncSession, ctx: WebhookContext, principal: Principal,
        farm_id: uuid.UUID, body: WebhookIn,
    ) -> FarmWebhook:  # fmt: skip
        """Add a webhook (farm admins; commits). The URL passes the SSRF guard; the secret
        is stored encrypted."""
        await authorize(session, principal, farm_id, Permission.FARM_MANAGE)
        try:
            check_url(body.url, allow_private=ctx.allow_private)
        except BlockedDestinationError as exc:
            raise Unprocessable(f"url: {exc}") from None
        repo = WebhookRepository(session)
        if len(await repo.list_for_farm(farm_id)) >= MAX_WEBHOOKS_PER_FARM:
            raise Conflict(f"A farm can have at most {MAX_WEBHOOKS_PER_FARM} webhooks.")
        webhook = FarmWebhook(
            id=uuid.uuid4(), farm_id=farm_id, url=body.url, events=list(body.events),
            secret_encrypted=ctx.box.encrypt(body.secret), description=body.description,
            active=True, created_by=principal.user_id,
        )  # fmt: skip
        await repo.add(webhook)
        await session.commit()
        return webhook

    async def list_all(
        self, session: AsyncSession, principal: Principal, farm_id: uuid.UUID
    ) -> Sequence[FarmWebhook]:
        """The farm's webhooks (farm admins)."""
        await authorize(session, principal, farm_id, Permission.FARM_MANAGE)
        return await WebhookRepository(session).list_for_farm(farm_id)

    async def _get(
        self, session: AsyncSession, principal: Principal, farm_id: uuid.UUID,
        webhook_id: uuid.UUID,
    ) -> FarmWebhook:  # fmt: skip
        await authorize(session, principal, farm_id, Permission.FARM_MANAGE)
        webhook = await WebhookRepository(session).get_in_farm(farm_id, webhook_id)
        if webhook is None:
            raise NotFound("Webhook not found.")
        return webhook

    async def delete(
        self, session: AsyncSession, principal: Principal, farm_id: uuid.UUID,
        webhook_id: uuid.UUID,
    ) -> None:  # fmt: skip
        """Remove a webhook and its delivery log (commits)."""
        webhook = await self._get(session, principal, farm_id, webhook_id)
        await WebhookRepository(session).delete(webhook, soft=False)
        await session.commit()

    async def deliveries(
        self, session: AsyncSession, principal: Principal, farm_id: uuid.UUID,
        webhook_id: uuid.UUID, limit: int,
    ) -> Sequence[WebhookDelivery]:  # fmt: skip
        """The webhook's latest deliveries, newest first."""
        webhook = await self._get(session, principal, farm_id, webhook_id)
        return await DeliveryRepository(session).list_for_webhook(webhook.id, limit=limit)


async def plan_job_deliveries(session: AsyncSession, ctx: WebhookContext, event: Event) -> int:
    """Queue one ``job.completed`` (or ``job.failed``) delivery per subscribed webhook of the
    job's farm, in the consumer's transaction; returns how many were new."""
    done = events.BATCH_FINISHED.parse(event)
    event_type = JOB_COMPLETED if done.status == "done" else JOB_FAILED
    body = {**webhook_body(event), "type": event_type}
    now = utcnow()
    created = 0
    repo = DeliveryRepository(session)
    for webhook in await WebhookRepository(session).subscribed(done.farm_id, event_type):
        created += await repo.insert_if_new({
            "id": uuid.uuid4(), "dedupe_key": f"{event.id}:webhook:{webhook.id}",
            "event_id": event.id, "event_type": event_type, "farm_id": done.farm_id,
            "channel": ChannelName.WEBHOOK.value, "recipient": str(webhook.id),
            "webhook_id": webhook.id, "body": body, "status": DeliveryStatus.PENDING.value,
            "attempt_count": 0, "next_attempt_at": now, "created_at": now,
        })  # fmt: skip
    if created:
        ctx.loop.wake_after_commit(session)
    return created


webhooks = FarmWebhookService()
