"""Event handlers of identity: the account emails (verification link, password reset link).

Where the emailed token is born: the consumer creates it when it sends the email, rather than
the request putting it in the event. The outbox row is relayed to RabbitMQ in production, so a
token in the payload would sit readable in the broker's queues, its dead-letter queue and the
audit log; created here, the only clear copy is the email itself and the database holds a hash.
The token row is written in the delivery's transaction, which also records the event as
processed, so a redelivered event is skipped, and a failed send rolls the token back.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from forgekit.events.envelope import Event, MalformedEventError
from forgekit.identity.events import (
    KIT_EVENT_TYPES,
    USER_PASSWORD_RESET_REQUESTED,
    USER_REGISTERED,
    USER_VERIFICATION_REQUESTED,
)
from forgekit.identity.models import User
from forgekit.identity.repository import UserRepository
from forgekit.identity.tokens import TokenPurpose, one_time_tokens
from forgekit.mail import MailTemplates
from forgekit.runtime import Runtime

#: The consumer's name (its queue is ``{events_queue_prefix}.identity.mail``).
MAIL_CONSUMER = "identity.mail"

_templates = MailTemplates("forgekit.identity")
_ACCOUNT_EVENTS = {str(t): t for t in KIT_EVENT_TYPES}


def register(runtime: Runtime) -> None:
    """Subscribe identity's consumers on ``runtime.events`` (called by the app factory)."""

    async def handle(event: Event, session: AsyncSession) -> None:
        await send_account_email(runtime, event, session)

    runtime.events.subscribe(
        MAIL_CONSUMER,
        [USER_REGISTERED, USER_VERIFICATION_REQUESTED, USER_PASSWORD_RESET_REQUESTED],
        handle,
    )


async def _load_user(session: AsyncSession, event: Event) -> User | None:
    event_type = _ACCOUNT_EVENTS.get(event.type)
    if event_type is None:
        return None
    try:
        payload = event_type.parse(event)
    except MalformedEventError:
        # A malformed event cannot become valid by retrying; nothing to send.
        return None
    user = await UserRepository(session).get(payload.user_id)
    return user if user is not None and user.is_active else None


async def send_account_email(runtime: Runtime, event: Event, session: AsyncSession) -> None:
    """Create the single-use token for ``event`` and mail its link to the user.

    Sends to the account's current address (not the one in the payload) and skips accounts
    that are gone, deactivated, or — for verification — already verified.
    """
    settings = runtime.settings
    user = await _load_user(session, event)
    if user is None:
        return
    base = settings.public_url.rstrip("/")
    if event.type in (USER_REGISTERED, USER_VERIFICATION_REQUESTED):
        if user.is_verified:
            return
        ttl = settings.email_verification_ttl_s
        token = await one_time_tokens.create(session, user, TokenPurpose.VERIFY_EMAIL, ttl)
        mail = _templates.render(
            "verify_email",
            app_name=settings.app_name,
            username=user.username,
            link=f"{base}/auth/verify-email?token={token}",
            valid_hours=max(1, ttl // 3600),
        )
    elif event.type == USER_PASSWORD_RESET_REQUESTED:
        ttl = settings.password_reset_ttl_s
        token = await one_time_tokens.create(session, user, TokenPurpose.PASSWORD_RESET, ttl)
        mail = _templates.render(
            "password_reset",
            app_name=settings.app_name,
            username=user.username,
            link=f"{base}/auth/password-reset?token={token}",
            valid_minutes=max(1, ttl // 60),
        )
    else:
        return
    await runtime.mailer.send(user.email, mail.subject, mail.text, mail.html)
