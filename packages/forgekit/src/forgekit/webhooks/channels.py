"""Delivery channels behind one small interface (:class:`Channel`).

A channel sends one logged delivery and reports an :class:`AttemptResult`; the delivery loop
owns retries, backoff and the log. What a message says is the product's (it is stored in the
delivery's ``body`` when the delivery is planned); how it travels is here.
"""

from __future__ import annotations

import json
import time
import uuid
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, ClassVar

import aiosmtplib

from forgekit.events import Event
from forgekit.mail import Mailer
from forgekit.webhooks.models import ChannelName
from forgekit.webhooks.outbound import AttemptResult, OutboundHttp
from forgekit.webhooks.secretbox import SecretBox, SecretUnreadableError
from forgekit.webhooks.signing import WebhookHeaders, signature_header


@dataclass(frozen=True)
class DeliveryJob:
    """What a channel needs to send one delivery, read from the log before the attempt."""

    id: uuid.UUID
    event_id: uuid.UUID
    event_type: str
    channel: str
    attempt: int
    target: str | None
    body: dict[str, Any]
    #: The webhook's URL and encrypted secret (webhook channel only).
    webhook_url: str | None = None
    webhook_secret_encrypted: str | None = None


class Channel(ABC):
    """Sends one delivery; never raises for failures it can classify."""

    #: The ``channel`` column of the deliveries this channel sends.
    name: ClassVar[str]

    @abstractmethod
    async def send(self, job: DeliveryJob) -> AttemptResult:
        """Try to deliver ``job`` once and say whether it worked and whether to retry."""

    async def aclose(self) -> None:  # noqa: B027 (optional hook, most channels hold nothing)
        """Release connections held by the channel."""


class EmailChannel(Channel):
    """Sends the rendered message stored in the delivery (``subject``, ``text``, ``html``) to
    its address through the kit's mailer (SMTP in production, the file sink when embedded)."""

    name = ChannelName.EMAIL

    def __init__(self, mailer: Mailer) -> None:
        self.mailer = mailer

    async def send(self, job: DeliveryJob) -> AttemptResult:
        """Send; permanent SMTP refusals (5xx) are not retried, everything else is."""
        if not job.target:
            return AttemptResult.failure("no recipient address", retryable=False)
        body = job.body
        started = time.perf_counter()

        def elapsed() -> int:
            return int((time.perf_counter() - started) * 1000)

        try:
            await self.mailer.send(
                job.target, str(body["subject"]), str(body["text"]), body.get("html")
            )
        except aiosmtplib.SMTPRecipientsRefused as exc:
            return AttemptResult.failure(f"recipient refused: {exc}", retryable=False,
                                         latency_ms=elapsed())
        except aiosmtplib.SMTPResponseException as exc:
            # 5xx is the server's final answer; 4xx (greylisting, mailbox busy) is temporary.
            return AttemptResult(
                ok=False, retryable=exc.code < 500, status_code=exc.code,
                latency_ms=elapsed(), error=f"SMTP {exc.code}: {exc.message}",
            )
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            return AttemptResult.failure(f"{type(exc).__name__}: {exc}", retryable=True,
                                         latency_ms=elapsed())
        return AttemptResult(ok=True, retryable=False, latency_ms=elapsed())


class SlackChannel(Channel):
    """Slack incoming webhooks: the stored payload POSTed to the encrypted URL in ``target``,
    through the same SSRF-guarded HTTP engine as webhooks."""

    name = ChannelName.SLACK

    def __init__(self, http: OutboundHttp, box: SecretBox) -> None:
        self.http = http
        self.box = box

    async def send(self, job: DeliveryJob) -> AttemptResult:
        """POST the payload; Slack answers 200 ``ok`` or a 4xx that retrying cannot fix."""
        if not job.target:
            return AttemptResult.failure("no Slack webhook URL", retryable=False)
        try:
            url = self.box.decrypt(job.target)
        except SecretUnreadableError as exc:
            return AttemptResult.failure(str(exc), retryable=False)
        return await self.http.post_json(url, json.dumps(job.body).encode())


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
    """Signs each attempt anew (fresh timestamp) over the exact bytes it sends, under the
    product's header names."""

    name = ChannelName.WEBHOOK

    def __init__(self, http: OutboundHttp, box: SecretBox, headers: WebhookHeaders) -> None:
        self.http = http
        self.box = box
        self.headers = headers

    async def send(self, job: DeliveryJob) -> AttemptResult:
        """POST the signed body to the webhook's URL."""
        if not job.webhook_url or not job.webhook_secret_encrypted:
            return AttemptResult.failure("webhook no longer exists", retryable=False)
        try:
            secret = self.box.decrypt(job.webhook_secret_encrypted)
        except SecretUnreadableError as exc:
            return AttemptResult.failure(f"{exc}; set the webhook's secret again",
                                         retryable=False)
        body = json.dumps(job.body, separators=(",", ":"), ensure_ascii=False).encode()
        headers = {
            self.headers.signature: signature_header(secret, body),
            self.headers.delivery: str(job.id),
            self.headers.event: job.event_type,
            "User-Agent": self.headers.user_agent,
        }
        return await self.http.post_json(job.webhook_url, body, headers)
