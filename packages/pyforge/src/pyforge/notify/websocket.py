"""The ``/ws`` protocol: authenticate, subscribe to readable projects, receive their events.

The connection machinery is the kit's (:mod:`forgekit.live.websocket`); PyForge says what a
subscription is: a project, named by ``project_id``, that the caller can read.

Client → server (JSON text frames)::

    {"action": "auth", "token": "<access JWT or pfk_ API key>"}   # if not sent at connect
    {"action": "subscribe", "project_id": "<uuid>"}
    {"action": "unsubscribe", "project_id": "<uuid>"}
    {"action": "ping"}                                             # answered {"type": "pong"}

Server → client: ``{"type": "welcome"}`` after authentication, ``{"type": "subscribed",
"project_id"}``, ``{"type": "error", "code", "detail"[, "project_id"]}``, ``{"type": "ping"}``
after ``ws_ping_interval_s`` without traffic, and events as ``{"type": "<event type>",
"id", "project_id", "payload", "timestamp"}``.

The credential is taken from ``Authorization: Bearer``/``X-API-Key`` headers, the ``token``
query parameter, or an ``auth`` message within ``ws_auth_timeout_s``. Read access is checked
with the projects access rule on subscribe and again every ``ws_recheck_interval_s``, together
with the credential itself, so a revoked key, a logout or a removed team member stops the
stream.
"""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from forgekit.errors import ProblemError
from forgekit.identity.principal import Principal
from forgekit.live import LiveSettings, LiveTopics
from pyforge.access import project_for
from pyforge.permissions import Permission
from pyforge.settings import PyForgeSettings


class ProjectTopics(LiveTopics):
    """A live subscription is a project the caller can read."""

    field = "project_id"
    plural = "projects"

    def parse(self, value: object) -> str:
        """The project id in its canonical form."""
        try:
            return str(uuid.UUID(str(value)))
        except ValueError:
            raise ValueError("project_id must be a UUID.") from None

    async def check_access(
        self, session: AsyncSession, principal: Principal, topic: str
    ) -> ProblemError | None:
        """The projects access rule for reading (404 for a project one cannot see)."""
        try:
            await project_for(session, principal, uuid.UUID(topic), Permission.PROJECT_READ)
        except ProblemError as exc:
            return exc
        return None


def live_settings(settings: PyForgeSettings) -> LiveSettings:
    """The kit's connection settings from PyForge's ``ws_*`` settings."""
    return LiveSettings(
        ping_interval_s=settings.ws_ping_interval_s,
        auth_timeout_s=settings.ws_auth_timeout_s,
        recheck_interval_s=settings.ws_recheck_interval_s,
        send_queue_size=settings.ws_send_queue_size,
    )
