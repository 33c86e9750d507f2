"""``make run APP=modelhub`` pays through the kit's fake provider when none is configured:
the runtime points at it and starts it, purchases and subscriptions work out of the box."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import httpx
from modelhub.billing.local import LocalFakeProvider
from modelhub.product import PRODUCT
from modelhub.settings import ModelhubSettings

from forgekit.payments.fake.state import TEST_API_KEY, TEST_WEBHOOK_SECRET
from forgekit.testing.servers import free_port


async def test_embedded_mode_starts_the_fake_provider(tmp_path: Path) -> None:
    port = free_port()
    settings = ModelhubSettings(_env_file=None, data_dir=tmp_path, payments_fake_port=port)
    runtime = PRODUCT.build_runtime(settings.kit(), settings)
    app = runtime.app_settings
    assert (app.payments_base_url, app.payments_api_key, app.payments_webhook_secret) == (
        f"http://127.0.0.1:{port}", TEST_API_KEY, TEST_WEBHOOK_SECRET)  # fmt: skip
    fakes = [s for s in runtime.services if isinstance(s, LocalFakeProvider)]
    assert len(fakes) == 1
    await fakes[0].start()
    try:
        deadline = time.monotonic() + 60
        async with httpx.AsyncClient(base_url=app.payments_base_url, timeout=60) as client:
            while True:
                try:
                    if (await client.get("/_control/health")).is_success:
                        break
                except httpx.TransportError:
                    pass
                assert time.monotonic() < deadline, "the local fake did not start"
                await asyncio.sleep(0.1)
            customer = await client.post(
                "/v1/customers", data={"email": "a@example.com"},
                headers={"Authorization": f"Bearer {TEST_API_KEY}", "Idempotency-Key": "k1"},
            )  # fmt: skip
            assert customer.status_code == 200 and customer.json()["id"].startswith("cus_")
    finally:
        await fakes[0].stop()
        await runtime.close()
    # A configured provider (production) turns it off.
    real = ModelhubSettings(_env_file=None, data_dir=tmp_path,
                            payments_base_url="https://api.stripe.com")  # fmt: skip
    runtime = PRODUCT.build_runtime(real.kit(), real)
    assert not [s for s in runtime.services if isinstance(s, LocalFakeProvider)]
    assert runtime.app_settings.payments_base_url == "https://api.stripe.com"
    await runtime.close()
