"""HTTP and WebSocket endpoints of notifications.

Webhooks
--------
``POST /api/v1/projects/{project_id}/webhooks`` registers ``{url, events, secret}``. Every
delivery is a ``POST`` of the event envelope as JSON
(``{"id", "type", "timestamp", "schema_version", "payload"}``) with the headers

- ``PyForge-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>``
- ``PyForge-Delivery: <delivery id>`` (stable across retries of one delivery; deduplicate on it)
- ``PyForge-Event: <event type>``

Verify it before trusting it (Python, standard library only)::

    import hashlib, hmac, time

    def verify(secret: str, body: bytes, header: str, tolerance_s: int = 300) -> bool:
        fields = dict(p.split("=", 1) for p in header.split(",") if "=" in p)
        t, sig = fields.get("t", ""), fields.get("v1", "")
        if not t.isdigit() or abs(time.time() - int(t)) > tolerance_s:
            return False
        mac = hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256)
        return hmac.compare_digest(mac.hexdigest(), sig)

Answer 2xx within 5 seconds. Timeouts, connection errors, 429 and 5xx are retried with
exponential backoff and jitter until the delivery is a day old; other answers fail it at once.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response, WebSocket, status

from forgekit.deps import SessionDep
from forgekit.identity.deps import CurrentPrincipal
from forgekit.live import serve_websocket
from pyforge.access import WritableProject
from pyforge.notify.context import NotifyContext, get_notify, notify_context
from pyforge.notify.schemas import DeliveryOut, PreferencesIn, PreferencesOut, WebhookIn, WebhookOut
from pyforge.notify.service import preferences, webhooks
from pyforge.notify.websocket import ProjectTopics, live_settings
from pyforge.runtime import PyForgeRuntime

NotifyDep = Annotated[NotifyContext, Depends(get_notify)]
ProjectScope = Annotated[
    uuid.UUID | None,
    Query(description="A project to read or set overrides for; omit for your defaults."),
]

router = APIRouter(prefix="/api/v1/notifications", tags=["notifications"])


@router.get("/preferences", response_model=PreferencesOut)
async def get_preferences(
    principal: CurrentPrincipal, session: SessionDep, project_id: ProjectScope = None
) -> PreferencesOut:
    """Your channels per event type, globally or for one project (with what it inherits)."""
    return await preferences.get(session, principal, project_id)


@router.put("/preferences", response_model=PreferencesOut)
async def put_preferences(
    body: PreferencesIn,
    principal: CurrentPrincipal,
    session: SessionDep,
    notify: NotifyDep,
    project_id: ProjectScope = None,
) -> PreferencesOut:
    """Set your channels per event type; event types left out inherit (project → global →
    defaults). ``slack_webhook_url`` is stored encrypted and never shown again."""
    return await preferences.put(session, notify, principal, project_id, body)


@router.delete("/preferences", status_code=status.HTTP_204_NO_CONTENT)
async def reset_preferences(
    principal: CurrentPrincipal, session: SessionDep, project_id: ProjectScope = None
) -> Response:
    """Drop your preferences for the scope, returning it to what it inherits."""
    await preferences.reset(session, principal, project_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


webhooks_router = APIRouter(
    prefix="/api/v1/projects/{project_id}/webhooks", tags=["webhooks"]
)


@webhooks_router.post(
    "", response_model=WebhookOut, status_code=status.HTTP_201_CREATED, description=__doc__ or ""
)
async def create_webhook(
    body: WebhookIn,
    project: WritableProject,
    principal: CurrentPrincipal,
    session: SessionDep,
    notify: NotifyDep,
) -> WebhookOut:
    """Register a webhook; see the description for the signature scheme."""
    webhook = await webhooks.create(session, notify, principal, project, body)
    return WebhookOut.model_validate(webhook)


@webhooks_router.get("", response_model=list[WebhookOut])
async def list_webhooks(project: WritableProject, session: SessionDep) -> list[WebhookOut]:
    """The project's webhooks (secrets are never returned)."""
    return [WebhookOut.model_validate(w) for w in await webhooks.list_all(session, project)]


@webhooks_router.get("/{webhook_id}", response_model=WebhookOut)
async def get_webhook(
    webhook_id: uuid.UUID, project: WritableProject, session: SessionDep
) -> WebhookOut:
    """One webhook."""
    return WebhookOut.model_validate(await webhooks.get(session, project, webhook_id))


@webhooks_router.delete("/{webhook_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_webhook(
    webhook_id: uuid.UUID, project: WritableProject, session: SessionDep
) -> Response:
    """Remove a webhook; pending deliveries are dropped with it."""
    await webhooks.delete(session, project, webhook_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@webhooks_router.get("/{webhook_id}/deliveries", response_model=list[DeliveryOut])
async def list_deliveries(
    webhook_id: uuid.UUID,
    project: WritableProject,
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> list[DeliveryOut]:
    """Latest deliveries, newest first, each with its attempts (HTTP status, latency, time)."""
    return await webhooks.deliveries(session, project, webhook_id, limit)


@webhooks_router.post(
    "/{webhook_id}/deliveries/{delivery_id}/redeliver",
    response_model=DeliveryOut,
    status_code=status.HTTP_202_ACCEPTED,
)
async def redeliver(
    webhook_id: uuid.UUID,
    delivery_id: uuid.UUID,
    project: WritableProject,
    session: SessionDep,
    notify: NotifyDep,
) -> DeliveryOut:
    """Send a delivery's event again, as a new delivery (new ``PyForge-Delivery`` id)."""
    return await webhooks.redeliver(session, notify, project, webhook_id, delivery_id)


async def live_events(websocket: WebSocket) -> None:
    """Live analysis and project events for the projects a client subscribes to.

    See :mod:`pyforge.notify.websocket` for the protocol.
    """
    runtime = websocket.app.state.runtime
    assert isinstance(runtime, PyForgeRuntime)
    ctx = notify_context(runtime)
    await serve_websocket(
        websocket, runtime, ctx.hub, ProjectTopics(), live_settings(ctx.settings)
    )


ws_router = APIRouter(tags=["live"])
# Authentication happens in the protocol (header, ``?token=`` or a first ``auth`` message); the
# app-wide rate limit counts each handshake.
ws_router.add_api_websocket_route("/ws", live_events)
