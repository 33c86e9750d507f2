"""The purchase saga survives its worker being killed (SIGKILL, a real ``modelhub worker``
subprocess on PostgreSQL + RabbitMQ) between every pair of steps, and after the provider
charged but before the step was recorded, with the provider timing out once: every purchase
ends completed (or compensated, when the model went away meanwhile), never half-done, with
exactly one charge."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from modelhub.grants.models import ModelGrant
from modelhub.purchases.models import Purchase
from modelhub.testing import affine_onnx, host_model, process_env
from sqlalchemy import select

from forgekit.identity.testing import register_and_login
from forgekit.runtime import Runtime
from forgekit.settings import ForgeSettings
from forgekit.testing.payments import FakeProvider, fake_provider
from forgekit.testing.servers import free_port

PRICING = {"purchase_price": 2500}


@pytest.fixture(scope="module")
def provider() -> Iterator[FakeProvider]:
    with fake_provider() as fake:
        yield fake


@pytest.fixture
def app_factory():
    # The API only takes the order: the saga runs on the worker subprocesses alone.
    from modelhub.app import create_app
    from modelhub.settings import ModelhubSettings

    def build(settings: ForgeSettings) -> FastAPI:
        return create_app(settings, ModelhubSettings(_env_file=None, inprocess_workers=False))

    return build


def _worker(settings: ForgeSettings, provider: FakeProvider, tmp: Path, name: str,
            halt: str = "") -> subprocess.Popen[bytes]:  # fmt: skip
    data = tmp / name
    data.mkdir()
    env = process_env(settings, data, free_port(), MODELHUB_PAYMENTS_BASE_URL=provider.base_url,
                      MODELHUB_PAYMENTS_API_KEY=provider.api_key,
                      MODELHUB_PAYMENTS_TIMEOUT_S="5", MODELHUB_SAGA_HALT_BEFORE=halt)  # fmt: skip
    log = (tmp / f"{name}.log").open("wb")
    return subprocess.Popen([sys.executable, "-m", "modelhub.cli", "worker"], env=env, cwd=data,
                            stdout=log, stderr=log)  # fmt: skip


async def _poll(check, what: str, timeout_s: float = 120):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout_s
    while not (value := await check()):
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.1)
    return value


async def _step(runtime: Runtime, purchase_id: str) -> str:
    async with runtime.db.session() as s:
        p = await s.get(Purchase, uuid.UUID(purchase_id))
        return p.step if p is not None else ""


async def _calls(provider: FakeProvider, key: str) -> int:
    return sum(1 for r in await provider.control.requests()
               if r["idempotency_key"] == key and r["status"] == 200 and not r["replayed"])  # fmt: skip


@pytest.mark.real
@pytest.mark.slow
@pytest.mark.timeout(600)
@pytest.mark.parametrize("backend", ["real"])
@pytest.mark.parametrize(
    ("halt", "then_delete"),
    [("charge", False), ("charge-recorded", False), ("grant", False), ("notify", False),
     ("grant", True)],
    ids=["before-charge", "charged-not-recorded", "before-grant", "before-notify",
         "model-gone-before-grant"],
)  # fmt: skip
async def test_killed_worker_and_one_provider_timeout_still_charge_exactly_once(
    client: httpx.AsyncClient, runtime: Runtime, forge_settings: ForgeSettings,
    provider: FakeProvider, tmp_path: Path, halt: str, then_delete: bool,
) -> None:  # fmt: skip
    runtime.app_settings.payments_base_url = provider.base_url  # type: ignore[attr-defined]
    hosted = await host_model(client, runtime, affine_onnx(), name="paid", pricing=PRICING)
    consumer = await register_and_login(client)
    # The provider's next call hangs far past the worker's 5 s timeout (ProviderUnavailable);
    # every other call has those 5 s, room for a busy machine (1 s was not).
    await provider.control.fail_next("timeout", 1, hang_s=15)
    first = _worker(forge_settings, provider, tmp_path, "worker-1", halt)
    second: subprocess.Popen[bytes] | None = None
    try:
        resp = await client.post(f"{hosted.base}/purchase", headers=consumer.headers,
                                 json={"payment_method": "pm_card_visa"})  # fmt: skip
        assert resp.status_code == 202, resp.text
        pid = resp.json()["id"]
        charge_key = f"purchase-{pid}-charge"
        if halt == "charge-recorded":
            await _poll(lambda: _calls(provider, charge_key), "the provider's charge")
        else:
            target = halt

            async def reached() -> bool:
                return await _step(runtime, pid) == target

            await _poll(reached, f"step {halt}")
        if then_delete:
            gone = await client.delete(hosted.base, headers=hosted.publisher.headers)
            assert gone.status_code == 204, gone.text
        first.kill()  # SIGKILL: no clean-up, unacked messages go back to the queue
        first.wait(timeout=30)
        second = _worker(forge_settings, provider, tmp_path, "worker-2")

        async def ended() -> str:
            step = await _step(runtime, pid)
            return step if step in ("completed", "compensated", "failed") else ""

        final = await _poll(ended, "the saga's end", timeout_s=180)
        assert final == ("compensated" if then_delete else "completed")
        assert await _calls(provider, charge_key) == 1
        # The timed-out call was retried with the same key and answered as a replay.
        replays = [r for r in await provider.control.requests()
                   if r["idempotency_key"] == charge_key and r["replayed"]]  # fmt: skip
        assert replays, "the provider's timeout was never retried"
        async with runtime.db.session() as s:
            grant = (await s.execute(select(ModelGrant))).scalar_one_or_none()
        if then_delete:
            assert await _calls(provider, f"purchase-{pid}-refund") == 1
            assert grant is None or grant.revoked_at is not None
        else:
            assert grant is not None and grant.revoked_at is None
    finally:
        for proc in (first, second):
            if proc is not None and proc.poll() is None:
                proc.kill()
                proc.wait(timeout=30)
