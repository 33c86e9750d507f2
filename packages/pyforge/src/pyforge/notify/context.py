"""The notification components of one runtime (built once per process by :mod:`tasks`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from pyforge.notify.channels import EmailChannel, SlackChannel, WebhookChannel
from pyforge.notify.crypto import SecretBox
from pyforge.notify.delivery import DeliveryWorker, RetryPolicy
from pyforge.notify.live import LiveHub, create_live_hub
from pyforge.notify.outbound import OutboundHttp
from pyforge.runtime import PyForgeRuntime, PyForgeRuntimeDep

if TYPE_CHECKING:
    from pyforge.settings import PyForgeSettings


@dataclass
class NotifyContext:
    """Secrets box, outbound HTTP, delivery loop and live hub shared by API and consumers."""

    settings: PyForgeSettings
    box: SecretBox
    http: OutboundHttp
    worker: DeliveryWorker
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
    box = SecretBox(kit.secret_key.get_secret_value())
    http = OutboundHttp(
        timeout_s=settings.notify_http_timeout_s,
        max_response_bytes=settings.notify_http_max_response_bytes,
        allow_private=settings.webhooks_allow_private_networks,
    )
    channels = {
        c.name.value: c
        for c in (EmailChannel(runtime.mailer), SlackChannel(http, box), WebhookChannel(http, box))
    }
    worker = DeliveryWorker(
        runtime.db,
        channels,
        RetryPolicy(
            base_s=settings.notify_retry_base_s,
            max_s=settings.notify_retry_max_s,
            max_age_s=settings.notify_delivery_max_age_s,
        ),
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
