"""The kit's fake payment provider started beside a local Modelhub (``make run APP=modelhub``).

When ``MODELHUB_PAYMENTS_BASE_URL`` is empty and ``MODELHUB_PAYMENTS_FAKE`` is on (the
default), the API starts ``python -m forgekit.payments.fake`` on ``MODELHUB_PAYMENTS_FAKE_PORT``
with its webhooks pointed back at Modelhub, and pays through it: purchases, subscriptions and
invoices work on one machine with no account anywhere. Production sets
``MODELHUB_PAYMENTS_BASE_URL`` (and the key and webhook secret), which turns this off.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from forgekit.payments.fake.state import TEST_API_KEY, TEST_WEBHOOK_SECRET
from modelhub.settings import ModelhubSettings

if TYPE_CHECKING:
    from modelhub.runtime import ModelhubRuntime

log = logging.getLogger("modelhub.billing.local")


def fake_url(settings: ModelhubSettings) -> str:
    """Where the local fake listens."""
    return f"http://127.0.0.1:{settings.payments_fake_port}"


def with_local_fake(settings: ModelhubSettings) -> ModelhubSettings:
    """``settings`` pointed at the local fake when no provider is configured."""
    if settings.payments_base_url or not settings.payments_fake:
        return settings
    return settings.model_copy(update={
        "payments_base_url": fake_url(settings), "payments_api_key": TEST_API_KEY,
        "payments_webhook_secret": TEST_WEBHOOK_SECRET,
    })  # fmt: skip


@dataclass
class LocalFakeProvider:
    """A background service owning the fake provider's process."""

    settings: ModelhubSettings
    consumer_group: str | None = None
    _process: asyncio.subprocess.Process | None = field(default=None, repr=False)

    async def start(self) -> None:
        """Start the fake (a second Modelhub process finds the port taken: it uses that one)."""
        s = self.settings
        webhook = f"http://{s.host}:{s.port}/api/v1/payments/webhooks"
        self._process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "forgekit.payments.fake", "--port", str(s.payments_fake_port),
            "--api-key", TEST_API_KEY, "--webhook-secret", TEST_WEBHOOK_SECRET,
            "--webhook-url", webhook,
        )  # fmt: skip
        log.info("fake payment provider on %s (webhooks to %s)", fake_url(s), webhook)

    async def stop(self) -> None:
        """Stop the fake."""
        if self._process is not None and self._process.returncode is None:
            self._process.terminate()
            with contextlib.suppress(ProcessLookupError, TimeoutError):
                await asyncio.wait_for(self._process.wait(), timeout=10)


def register(runtime: ModelhubRuntime) -> None:
    """Run the local fake in this process when the settings point at it."""
    s = runtime.app_settings
    if s.payments_fake and s.payments_base_url == fake_url(s):
        runtime.services.append(LocalFakeProvider(s))
