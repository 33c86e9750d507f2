"""The notification components of one runtime (built once per process by :mod:`tasks`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from forgekit.live import LiveHub, create_live_hub
from forgekit.webhooks.channels import Channel, EmailChannel, SlackChannel, WebhookChannel
from forgekit.webhooks.delivery import DeliveryLoop, RetryPolicy
from forgekit.webhooks.outbound import OutboundHttp
from forgekit.webhooks.secretbox import SecretBox
from forgekit.webhooks.signing import WebhookHeaders
from pyforge.notify.models import Delivery, DeliveryAttempt
from pyforge.notify.repository import DeliveryRepository
from pyforge.runtime import PyForgeRuntime, PyForgeRuntimeDep

if TYPE_CHECKING:
    from pyforge.settings import PyForgeSettings

#: ``PyForge-Signature``, ``PyForge-Delivery``, ``PyForge-Event``, ``PyForge-Webhooks/1``.
WEBHOOK_HEADERS = WebhookHeaders.for_product("PyForge")
#: The HKDF label the stored secrets were encrypted under (changing it loses them).
SECRETS_PURPOSE = b"pyforge.notify.secrets.v1"
#: The consumer group whose processes run the delivery loop (``pyforge worker --queues notify``).
CONSUMER_GROUP = "notify"


@dataclass
class NotifyContext:
    """Secrets box, outbound HTTP, delivery loop and live hub shared by API and consumers."""

    settings: PyForgeSettings
    box: SecretBox
    http: OutboundHttp
    worker: DeliveryLoop[Delivery, DeliveryAttempt]
    hub: LiveHub
    #: Base URL of links in notifications.
    link_base: str

    @property
    def allow_private(self) -> bool:
        """Whether user-supplied URLs may point at private networks."""
        return self.settings.webhooks_allow_private_networks


def build_context(runtime: PyForgeRuntime) -> NotifyContext:
    """Build the components from the runtime's settings (no I/O)."""
    settings = runtime.app_settings
    kit = runtime.settings
    box = SecretBox(kit.secret_key.get_secret_value(), SECRETS_PURPOSE)
    http = OutboundHttp(
        timeout_s=settings.notify_http_timeout_s,
        max_response_bytes=settings.notify_http_max_response_bytes,
        allow_private=settings.webhooks_allow_private_networks,
        user_agent=WEBHOOK_HEADERS.user_agent,
    )
    channels: dict[str, Channel] = {
        c.name: c
        for c in (
            EmailChannel(runtime.mailer),
            SlackChannel(http, box),
            WebhookChannel(http, box, WEBHOOK_HEADERS),
        )
    }
    worker = DeliveryLoop(
        runtime.db,
        DeliveryRepository,
        channels,
        RetryPolicy(
            base_s=settings.notify_retry_base_s,
            max_s=settings.notify_retry_max_s,
            max_age_s=settings.notify_delivery_max_age_s,
        ),
        consumer_group=CONSUMER_GROUP,
        poll_interval_s=settings.notify_delivery_poll_s,
        concurrency=settings.notify_delivery_concurrency,
        # Longer than any attempt can take, so a live attempt is never claimed twice.
        lease_s=settings.notify_http_timeout_s * 2 + 60,
    )
    hub = create_live_hub(kit.redis_url, kit.effective_redis_prefix)
    return NotifyContext(
        settings=settings,
        box=box,
        http=http,
        worker=worker,
        hub=hub,
        link_base=settings.notify_link_base_url or kit.public_url,
    )


def notify_context(runtime: PyForgeRuntime) -> NotifyContext:
    """The runtime's notification components (registered by :func:`tasks.register`)."""
    if runtime.notify is None:
        raise RuntimeError("notifications are not registered on this runtime")
    return runtime.notify


async def get_notify(runtime: PyForgeRuntimeDep) -> NotifyContext:
    """FastAPI dependency: the app's notification components."""
    return notify_context(runtime)
