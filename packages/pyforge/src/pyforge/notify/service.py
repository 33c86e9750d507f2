"""Notification rules: preferences, webhooks, and who gets what for an event."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from forgekit.db.base import utcnow
from forgekit.errors import Conflict, NotFound, Unprocessable
from forgekit.events import Event
from forgekit.identity.models import Team, TeamMember, User
from forgekit.identity.principal import Principal
from forgekit.webhooks.channels import webhook_body
from forgekit.webhooks.models import ChannelName, DeliveryStatus
from forgekit.webhooks.netguard import BlockedDestinationError, check_url
from forgekit.webhooks.secretbox import SecretUnreadableError
from pyforge.access import project_for
from pyforge.notify import events as ev
from pyforge.notify.context import NotifyContext
from pyforge.notify.messages import ProjectRef, render_email, slack_payload
from pyforge.notify.models import GLOBAL_SCOPE, Delivery, NotificationPreference, Webhook
from pyforge.notify.repository import DeliveryRepository, PreferenceRepository, WebhookRepository
from pyforge.notify.schemas import (
    AttemptOut,
    DeliveryOut,
    PreferencesIn,
    PreferencesOut,
    WebhookIn,
)
from pyforge.permissions import Permission
from pyforge.projects.models import Project

log = logging.getLogger("pyforge.notify")

#: Channels per event type for a user who never set preferences. A failed quality gate, a
#: failed analysis and new critical findings need someone's attention; the rest is opt-in.
DEFAULT_EVENTS: dict[str, list[str]] = {
    ev.PROJECT_CREATED: [],
    ev.ANALYSIS_COMPLETED: [],
    ev.ANALYSIS_FAILED: ["email"],
    ev.QUALITY_GATE_CHANGED: ["email"],
    ev.FINDING_NEW_CRITICAL: ["email"],
}

MAX_WEBHOOKS_PER_PROJECT = 20


def _dedupe_key(event_id: uuid.UUID, channel: str, recipient: str) -> str:
    return f"{event_id}:{channel}:{recipient}"


def effective_events(
    global_row: NotificationPreference | None, project_row: NotificationPreference | None
) -> dict[str, list[str]]:
    """Channels per notifiable event type: defaults, overridden globally, then per project."""
    result = dict(DEFAULT_EVENTS)
    for row in (global_row, project_row):
        if row is not None:
            result.update({k: list(v) for k, v in row.events.items() if k in DEFAULT_EVENTS})
    return {k: sorted(result[k]) for k in ev.NOTIFIABLE_EVENT_TYPES}


def _slack_of(*rows: NotificationPreference | None) -> str | None:
    # The most specific row with a Slack URL wins.
    for row in rows:
        if row is not None and row.slack_webhook_encrypted:
            return row.slack_webhook_encrypted
    return None


def _checked_url(ctx: NotifyContext, url: str) -> str:
    try:
        check_url(url, allow_private=ctx.allow_private)
    except BlockedDestinationError as exc:
        raise Unprocessable(f"url: {exc}") from None
    return url


# Preferences --------------------------------------------------------------------------------


class PreferenceService:
    """Reads and writes a user's notification preferences."""

    async def _check_project(
        self, session: AsyncSession, principal: Principal, project_id: uuid.UUID | None
    ) -> None:
        if project_id is not None:
            await project_for(session, principal, project_id, Permission.PROJECT_READ)

    async def get(
        self, session: AsyncSession, principal: Principal, project_id: uuid.UUID | None
    ) -> PreferencesOut:
        """The caller's effective preferences, globally or for one readable project."""
        await self._check_project(session, principal, project_id)
        repo = PreferenceRepository(session)
        global_row = await repo.get_scope(principal.user_id, None)
        project_row = (
            await repo.get_scope(principal.user_id, project_id) if project_id else None
        )
        own = project_row if project_id is not None else global_row
        return PreferencesOut(
            project_id=project_id,
            events=effective_events(global_row, project_row),
            inherited=own is None,
            slack_webhook_configured=_slack_of(project_row, global_row) is not None,
        )

    async def put(
        self,
        session: AsyncSession,
        ctx: NotifyContext,
        principal: Principal,
        project_id: uuid.UUID | None,
        body: PreferencesIn,
    ) -> PreferencesOut:
        """Replace the caller's preferences for the scope (commits)."""
        await self._check_project(session, principal, project_id)
        repo = PreferenceRepository(session)
        row = await repo.get_scope(principal.user_id, project_id)
        if row is None:
            row = NotificationPreference(
                id=uuid.uuid4(),
                user_id=principal.user_id,
                project_id=project_id,
                scope=GLOBAL_SCOPE if project_id is None else str(project_id),
                events={},
            )
            session.add(row)
        row.events = dict(body.events)
        if "slack_webhook_url" in body.model_fields_set:
            url = body.slack_webhook_url
            row.slack_webhook_encrypted = (
                ctx.box.encrypt(_checked_url(ctx, url)) if url else None
            )
        await session.commit()
        return await self.get(session, principal, project_id)

    async def reset(
        self, session: AsyncSession, principal: Principal, project_id: uuid.UUID | None
    ) -> None:
        """Delete the caller's row for the scope: it inherits again (commits)."""
        await self._check_project(session, principal, project_id)
        repo = PreferenceRepository(session)
        row = await repo.get_scope(principal.user_id, project_id)
        if row is not None:
            await repo.delete(row, soft=False)
            await session.commit()


# Webhooks -----------------------------------------------------------------------------------


def _delivery_out(delivery: Delivery, attempts: Sequence[Any]) -> DeliveryOut:
    return DeliveryOut(
        id=delivery.id,
        webhook_id=delivery.webhook_id,
        event_id=delivery.event_id,
        event_type=delivery.event_type,
        status=delivery.status,
        attempt_count=delivery.attempt_count,
        created_at=delivery.created_at,
        next_attempt_at=(
            delivery.next_attempt_at if delivery.status == DeliveryStatus.PENDING.value else None
        ),
        completed_at=delivery.completed_at,
        last_error=delivery.last_error,
        redelivery_of=delivery.redelivery_of,
        attempts=[AttemptOut.model_validate(a) for a in attempts],
    )


class WebhookService:
    """A project's webhooks and their delivery log."""

    async def create(
        self,
        session: AsyncSession,
        ctx: NotifyContext,
        principal: Principal,
        project: Project,
        body: WebhookIn,
    ) -> Webhook:
        """Add a webhook (commits); the secret is stored encrypted."""
        repo = WebhookRepository(session)
        if len(await repo.list_for_project(project.id)) >= MAX_WEBHOOKS_PER_PROJECT:
            raise Conflict(f"A project can have at most {MAX_WEBHOOKS_PER_PROJECT} webhooks.")
        webhook = Webhook(
            id=uuid.uuid4(),
            project_id=project.id,
            url=_checked_url(ctx, body.url),
            events=list(body.events),
            secret_encrypted=ctx.box.encrypt(body.secret),
            description=body.description,
            active=True,
            created_by=principal.user_id,
        )
        await repo.add(webhook)
        await session.commit()
        return webhook

    async def list_all(self, session: AsyncSession, project: Project) -> Sequence[Webhook]:
        """The project's webhooks."""
        return await WebhookRepository(session).list_for_project(project.id)

    async def get(
        self, session: AsyncSession, project: Project, webhook_id: uuid.UUID
    ) -> Webhook:
        """One of the project's webhooks; 404 otherwise."""
        webhook = await WebhookRepository(session).get_in_project(project.id, webhook_id)
        if webhook is None:
            raise NotFound("Webhook not found.")
        return webhook

    async def delete(self, session: AsyncSession, project: Project, webhook_id: uuid.UUID) -> None:
        """Remove a webhook and its delivery log (commits)."""
        webhook = await self.get(session, project, webhook_id)
        await WebhookRepository(session).delete(webhook, soft=False)
        await session.commit()

    async def deliveries(
        self, session: AsyncSession, project: Project, webhook_id: uuid.UUID, limit: int
    ) -> list[DeliveryOut]:
        """The webhook's latest deliveries with their attempts, newest first."""
        webhook = await self.get(session, project, webhook_id)
        repo = DeliveryRepository(session)
        rows = await repo.list_for_webhook(webhook.id, limit=limit)
        attempts = await repo.attempts_of([d.id for d in rows])
        return [_delivery_out(d, attempts[d.id]) for d in rows]

    async def redeliver(
        self,
        session: AsyncSession,
        ctx: NotifyContext,
        project: Project,
        webhook_id: uuid.UUID,
        delivery_id: uuid.UUID,
    ) -> DeliveryOut:
        """Queue a new delivery of the same event to the webhook (commits).

        A new delivery id, so a receiver that deduplicates by it accepts the resend; the event
        id in the body is unchanged.
        """
        webhook = await self.get(session, project, webhook_id)
        original = await session.get(Delivery, delivery_id)
        if original is None or original.webhook_id != webhook.id:
            raise NotFound("Delivery not found.")
        now = utcnow()
        new_id = uuid.uuid4()
        delivery = Delivery(
            id=new_id,
            dedupe_key=f"redeliver:{new_id}",
            event_id=original.event_id,
            event_type=original.event_type,
            project_id=original.project_id,
            channel=original.channel,
            recipient=original.recipient,
            webhook_id=webhook.id,
            body=original.body,
            status=DeliveryStatus.PENDING.value,
            attempt_count=0,
            next_attempt_at=now,
            created_at=now,
            redelivery_of=original.id,
        )
        session.add(delivery)
        ctx.worker.wake_after_commit(session)
        await session.commit()
        return _delivery_out(delivery, [])


# Dispatch (event consumers) -----------------------------------------------------------------


def event_project_id(event: Event) -> uuid.UUID | None:
    """The event's ``payload.project_id``, or None when absent or malformed."""
    try:
        return uuid.UUID(str(event.payload["project_id"]))
    except (KeyError, ValueError):
        return None


async def project_audience(
    session: AsyncSession, project_id: uuid.UUID
) -> tuple[Project | None, list[User]]:
    """The live project and the active users to notify: its owner and its team's members."""
    project = await session.scalar(
        select(Project).where(Project.id == project_id, Project.deleted_at.is_(None))
    )
    if project is None:
        return None, []
    user_ids = {project.owner_id}
    if project.team_id is not None:
        members = await session.scalars(
            select(TeamMember.user_id)
            .join(Team, Team.id == TeamMember.team_id)
            .where(TeamMember.team_id == project.team_id, Team.deleted_at.is_(None))
        )
        user_ids.update(members)
    users = await session.scalars(
        select(User)
        .where(User.id.in_(user_ids), User.is_active.is_(True), User.deleted_at.is_(None))
        .order_by(User.id)
    )
    return project, list(users)


def _delivery_values(
    event: Event, channel: ChannelName, recipient: str, **fields: Any
) -> dict[str, Any]:
    now = utcnow()
    return {
        "id": uuid.uuid4(),
        "dedupe_key": _dedupe_key(event.id, channel.value, recipient),
        "event_id": event.id,
        "event_type": event.type,
        "project_id": event_project_id(event),
        "channel": channel.value,
        "recipient": recipient,
        "status": DeliveryStatus.PENDING.value,
        "attempt_count": 0,
        "next_attempt_at": now,
        "created_at": now,
        **fields,
    }


class DispatchService:
    """Turns events into deliveries (in the consumer's transaction) and live messages."""

    async def plan_personal(
        self, session: AsyncSession, ctx: NotifyContext, event: Event
    ) -> int:
        """Queue the email and Slack deliveries ``event`` calls for; returns how many are new.

        Email goes only to verified addresses: an unverified one may belong to someone else.
        """
        project_id = event_project_id(event)
        if project_id is None:
            return 0
        project, users = await project_audience(session, project_id)
        if project is None or not users:
            return 0
        ref = ProjectRef(project.id, project.name)
        rows = await PreferenceRepository(session).for_users([u.id for u in users], project.id)
        by_user: dict[tuple[uuid.UUID, str], NotificationPreference] = {
            (r.user_id, r.scope): r for r in rows
        }
        repo = DeliveryRepository(session)
        created = 0
        slack_body: dict[str, Any] | None = None
        slack_urls: set[str] = set()
        for user in users:
            global_row = by_user.get((user.id, GLOBAL_SCOPE))
            project_row = by_user.get((user.id, str(project.id)))
            channels = effective_events(global_row, project_row).get(event.type, [])
            if ChannelName.EMAIL.value in channels and user.is_verified:
                mail = render_email(event, ref, ctx.link_base, user.username)
                created += await repo.insert_if_new(_delivery_values(
                    event, ChannelName.EMAIL, str(user.id), user_id=user.id, target=user.email,
                    body={"subject": mail.subject, "text": mail.text, "html": mail.html},
                ))
            slack = _slack_of(project_row, global_row)
            if ChannelName.SLACK.value in channels and slack is not None:
                # Team mates often point at the same channel: post there once per event.
                try:
                    slack_url = ctx.box.decrypt(slack)
                except SecretUnreadableError:
                    log.warning("user %s: stored Slack URL is unreadable, skipped", user.id)
                    continue
                if slack_url in slack_urls:
                    continue
                slack_urls.add(slack_url)
                slack_body = slack_body or slack_payload(event, ref, ctx.link_base)
                created += await repo.insert_if_new(_delivery_values(
                    event, ChannelName.SLACK, str(user.id), user_id=user.id, target=slack,
                    body=slack_body,
                ))
        if created:
            ctx.worker.wake_after_commit(session)
        return created

    async def plan_webhooks(self, session: AsyncSession, ctx: NotifyContext, event: Event) -> int:
        """Queue one delivery per active webhook of the project subscribed to ``event.type``."""
        project_id = event_project_id(event)
        if project_id is None:
            return 0
        created = 0
        repo = DeliveryRepository(session)
        for webhook in await WebhookRepository(session).active_for_project(project_id):
            if event.type not in webhook.events:
                continue
            created += await repo.insert_if_new(_delivery_values(
                event, ChannelName.WEBHOOK, str(webhook.id), webhook_id=webhook.id,
                body=webhook_body(event),
            ))
        if created:
            ctx.worker.wake_after_commit(session)
        return created

    async def publish_live(self, ctx: NotifyContext, event: Event) -> None:
        """Send ``event`` to WebSocket clients subscribed to its project, in every process."""
        project_id = event_project_id(event)
        if project_id is None:
            return
        await ctx.hub.publish(str(project_id), {
            "type": event.type,
            "id": str(event.id),
            "project_id": str(project_id),
            "payload": event.payload,
            "timestamp": event.timestamp.isoformat(),
        })


preferences = PreferenceService()
webhooks = WebhookService()
dispatch = DispatchService()
