"""The webhook components of one runtime: the secrets box and the kit's delivery loop."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from aquaculture.webhooks.models import WebhookAttempt, WebhookDelivery
from aquaculture.webhooks.repository import DeliveryRepository
from forgekit.errors import ServiceUnavailable
from forgekit.webhooks.channels import WebhookChannel
from forgekit.webhooks.delivery import DeliveryLoop, RetryPolicy
from forgekit.webhooks.outbound import OutboundHttp
from forgekit.webhooks.secretbox import SecretBox
from forgekit.webhooks.signing import WebhookHeaders

if TYPE_CHECKING:
    from aquaculture.runtime import AquacultureRuntime

#: ``Aquaculture-Signature``, ``Aquaculture-Delivery``, ``Aquaculture-Event``.
WEBHOOK_HEADERS = WebhookHeaders.for_product("Aquaculture")
#: The HKDF label the stored secrets are encrypted under (changing it loses them).
SECRETS_PURPOSE = b"aquaculture.webhooks.secrets.v1"
#: Processes consuming this group run the delivery loop (``aquaculture worker --queues
#: batches``): the process that ran the job also calls its webhooks.
CONSUMER_GROUP = "batches"


@dataclass
class WebhookContext:
    """What the API (secrets) and the consumers (planning, sending) share."""

    box: SecretBox
    loop: DeliveryLoop[WebhookDelivery, WebhookAttempt]
    allow_private: bool


def build_context(runtime: AquacultureRuntime) -> WebhookContext:
    """The components from the runtime's settings (no I/O)."""
    settings = runtime.app_settings
    box = SecretBox(runtime.settings.secret_key.get_secret_value(), SECRETS_PURPOSE)
    http = OutboundHttp(
        timeout_s=settings.webhook_timeout_s,
        max_response_bytes=65_536,
        allow_private=settings.webhooks_allow_private_networks,
        user_agent=WEBHOOK_HEADERS.user_agent,
    )
    loop = DeliveryLoop(
        runtime.db,
        DeliveryRepository,
        {"webhook": WebhookChannel(http, box, WEBHOOK_HEADERS)},
        RetryPolicy(
            base_s=settings.webhook_retry_base_s,
            max_s=settings.webhook_retry_max_s,
            max_age_s=settings.webhook_max_age_s,
        ),
        consumer_group=CONSUMER_GROUP,
        poll_interval_s=settings.webhook_poll_s,
        concurrency=4,
        # Longer than any attempt can take, so a live attempt is never claimed twice.
        lease_s=settings.webhook_timeout_s * 2 + 60,
    )
    return WebhookContext(box, loop, settings.webhooks_allow_private_networks)


def webhook_context(runtime: AquacultureRuntime) -> WebhookContext:
    """The runtime's webhook components (registered by :func:`tasks.register`)."""
    if runtime.webhooks is None:
        raise ServiceUnavailable("Webhooks are not configured on this server.")
    return runtime.webhooks
