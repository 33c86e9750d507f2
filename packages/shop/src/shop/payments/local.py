"""The kit's fake payment provider started beside a local shop (``make run APP=shop``).

When ``SHOP_PAYMENTS_URL`` is empty and ``SHOP_PAYMENTS_FAKE`` is on (the default), the API
starts ``python -m forgekit.payments.fake`` on ``SHOP_PAYMENTS_FAKE_PORT`` with its webhooks
pointed back at the shop, and pays through it: every flow works on one machine with no
account anywhere. Production sets ``SHOP_PAYMENTS_URL`` (and the key and secret), which turns
this off.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
from dataclasses import dataclass, field
from typing import Any

from pydantic import SecretStr

from forgekit.payments.fake.state import TEST_API_KEY, TEST_WEBHOOK_SECRET
from shop.settings import ShopSettings

log = logging.getLogger("shop.payments.local")


def with_local_fake(settings: ShopSettings) -> ShopSettings:
    """``settings`` pointed at the local fake when no provider is configured."""
    if settings.payments_url or not settings.payments_fake:
        return settings
    return settings.model_copy(update={
        "payments_url": f"http://127.0.0.1:{settings.payments_fake_port}",
        "payments_api_key": SecretStr(TEST_API_KEY),
        "payments_webhook_secret": SecretStr(TEST_WEBHOOK_SECRET),
    })  # fmt: skip


@dataclass
class LocalFakeProvider:
    """A background service owning the fake provider's process."""

    settings: ShopSettings
    consumer_group: str | None = None
    _process: asyncio.subprocess.Process | None = field(default=None, repr=False)

    async def start(self) -> None:
        """Start the fake (a second process of the same shop finds the port taken: fine)."""
        port = self.settings.payments_fake_port
        webhook = f"http://{self.settings.host}:{self.settings.port}/api/v1/payments/webhook"
        self._process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "forgekit.payments.fake", "--port", str(port),
            "--api-key", TEST_API_KEY, "--webhook-secret", TEST_WEBHOOK_SECRET,
            "--webhook-url", webhook,
        )  # fmt: skip
        log.info("fake payment provider on http://127.0.0.1:%d (webhooks to %s)", port, webhook)

    async def stop(self) -> None:
        """Stop the fake."""
        if self._process is not None and self._process.returncode is None:
            self._process.terminate()
            with contextlib.suppress(ProcessLookupError):
                await asyncio.wait_for(self._process.wait(), timeout=10)


def register(runtime: Any) -> None:
    """Run the local fake in this process when the settings ask for it."""
    app: ShopSettings = runtime.app_settings
    if app.payments_fake and app.payments_url == f"http://127.0.0.1:{app.payments_fake_port}":
        runtime.services.append(LocalFakeProvider(app))
