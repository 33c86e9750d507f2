"""Email through the kit's mailer (SMTP in production, the file sink when embedded)."""

from __future__ import annotations

import time

import aiosmtplib

from forgekit.mail import Mailer
from pyforge.notify.channels.base import Channel, DeliveryJob
from pyforge.notify.models import ChannelName
from pyforge.notify.outbound import AttemptResult


class EmailChannel(Channel):
    """Sends the rendered message stored in the delivery to its address."""

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
