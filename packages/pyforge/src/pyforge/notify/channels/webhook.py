"""Project webhooks: the event envelope as JSON, signed with the webhook's secret."""

from __future__ import annotations

import json
from typing import Any

from forgekit.events import Event
from pyforge.notify.channels.base import Channel, DeliveryJob
from pyforge.notify.crypto import SecretBox, SecretUnreadableError
from pyforge.notify.models import ChannelName
from pyforge.notify.outbound import AttemptResult, OutboundHttp
from pyforge.notify.signing import DELIVERY_HEADER, EVENT_HEADER, SIGNATURE_HEADER, signature_header


def webhook_body(event: Event) -> dict[str, Any]:
    """The JSON a webhook receives: the envelope without internal tracing metadata."""
    return {
        "id": str(event.id),
        "type": event.type,
        "timestamp": event.timestamp.isoformat(),
        "schema_version": event.schema_version,
        "payload": event.payload,
    }


class WebhookChannel(Channel):
    """Signs each attempt anew (fresh timestamp) over the exact bytes it sends."""

    name = ChannelName.WEBHOOK

    def __init__(self, http: OutboundHttp, box: SecretBox) -> None:
        self.http = http
        self.box = box

    async def send(self, job: DeliveryJob) -> AttemptResult:
        """POST the signed envelope to the webhook's URL."""
        if not job.webhook_url or not job.webhook_secret_encrypted:
            return AttemptResult.failure("webhook no longer exists", retryable=False)
        try:
            secret = self.box.decrypt(job.webhook_secret_encrypted)
        except SecretUnreadableError as exc:
            return AttemptResult.failure(f"{exc}; set the webhook's secret again",
                                         retryable=False)
        body = json.dumps(job.body, separators=(",", ":"), ensure_ascii=False).encode()
        headers = {
            SIGNATURE_HEADER: signature_header(secret, body),
            DELIVERY_HEADER: str(job.id),
            EVENT_HEADER: job.event_type,
        }
        return await self.http.post_json(job.webhook_url, body, headers)
