"""Signed webhooks and a logged delivery with retries, for any product.

- :mod:`~forgekit.webhooks.signing`: ``t=<unix>,v1=<hex HMAC-SHA256(secret, "t.body")>``
  signatures under the product's header names (:class:`WebhookHeaders`), and verification;
- :mod:`~forgekit.webhooks.netguard`: the SSRF guard for user-supplied URLs;
- :mod:`~forgekit.webhooks.outbound`: the HTTP client that connects to the vetted address,
  with tight timeouts and a bounded response;
- :mod:`~forgekit.webhooks.secretbox`: encryption of stored secrets (signing secrets, Slack
  URLs) under a key derived from the kit's ``secret_key``;
- :mod:`~forgekit.webhooks.models` and :mod:`~forgekit.webhooks.repository`: the delivery
  log's columns as mixins (each product declares its own tables) and its queries;
- :mod:`~forgekit.webhooks.delivery`: the retry policy and the delivery loop, a background
  service of the runtime;
- :mod:`~forgekit.webhooks.channels`: webhook, email and Slack transports.

A product plans deliveries (rows of its delivery log) in its event consumers' transactions;
the loop sends them. Who is notified of what, and what a message says, stay the product's.
"""

from forgekit.webhooks.channels import (
    Channel,
    DeliveryJob,
    EmailChannel,
    SlackChannel,
    WebhookChannel,
    webhook_body,
)
from forgekit.webhooks.delivery import DeliveryLoop, RetryPolicy
from forgekit.webhooks.models import (
    ChannelName,
    DeliveryAttemptMixin,
    DeliveryMixin,
    DeliveryStatus,
    WebhookEndpointMixin,
    delivery_table_args,
)
from forgekit.webhooks.netguard import BlockedDestinationError, check_url
from forgekit.webhooks.outbound import AttemptResult, OutboundHttp
from forgekit.webhooks.repository import DeliveryLogRepository
from forgekit.webhooks.secretbox import SecretBox, SecretUnreadableError
from forgekit.webhooks.signing import WebhookHeaders, signature_header, verify_signature

__all__ = [
    "AttemptResult",
    "BlockedDestinationError",
    "Channel",
    "ChannelName",
    "DeliveryAttemptMixin",
    "DeliveryJob",
    "DeliveryLogRepository",
    "DeliveryLoop",
    "DeliveryMixin",
    "DeliveryStatus",
    "EmailChannel",
    "OutboundHttp",
    "RetryPolicy",
    "SecretBox",
    "SecretUnreadableError",
    "SlackChannel",
    "WebhookChannel",
    "WebhookEndpointMixin",
    "WebhookHeaders",
    "check_url",
    "delivery_table_args",
    "signature_header",
    "verify_signature",
    "webhook_body",
]
