"""A catalogue import survives its worker being SIGKILLed mid-run (a real ``shop worker``
subprocess on PostgreSQL + RabbitMQ): the janitor of another worker re-queues it once its
heartbeat is stale, and it finishes once, its products written once, none half-imported."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from shop.catalogue.models import Product
from shop.imports.models import ImportJob
from shop.testing import make_channel, process_env, staff_user
from sqlalchemy import func, select

from forgekit.runtime import Runtime
from forgekit.settings import ForgeSettings
from forgekit.testing.faults import record
from forgekit.testing.servers import free_port

CSV = b"slug,name,sku,price_eu\nkilt,Kilt,KILT-1,9000\nkilt,Kilt,KILT-2,9500\nsock,Sock,SOCK-1,900\n"


@pytest.fixture
def app_factory():
    # The API only queues the import: it runs on the worker subprocesses alone.
    from shop.app import create_app
    from shop.settings import ShopSettings

    def build(settings: ForgeSettings) -> FastAPI:
        return create_app(settings, ShopSettings(_env_file=None, demo_catalogue=False,
                                                 payments_fake=False, inprocess_workers=False))  # fmt: skip

    return build


def _worker(settings: ForgeSettings, tmp: Path, name: str, **extra: str) -> subprocess.Popen[bytes]:
    data = tmp / name
    data.mkdir()
    env = process_env(settings, data, free_port(), **extra)
    log = (tmp / f"{name}.log").open("wb")
    return subprocess.Popen([sys.executable, "-m", "shop.cli", "worker", "--queues", "imports"],
                            env=env, cwd=data, stdout=log, stderr=log)  # fmt: skip


async def _job(runtime: Runtime, job_id: str) -> ImportJob:
    async with runtime.db.session() as s:
        return await s.get_one(ImportJob, uuid.UUID(job_id))


async def _until(
    runtime: Runtime, job_id: str, done: Callable[[ImportJob], bool], tmp: Path
) -> ImportJob:
    deadline = time.monotonic() + 120
    while not done(job := await _job(runtime, job_id)):
        if time.monotonic() > deadline:
            logs = {p.name: p.read_text()[-2000:] for p in tmp.glob("*.log")}
            raise AssertionError(f"job {job.status}, attempt {job.attempts}; logs: {logs}")
        await asyncio.sleep(0.1)
    return job


@pytest.mark.real
@pytest.mark.faults
@pytest.mark.timeout(300)
@pytest.mark.parametrize("backend", ["real"])
async def test_import_worker_killed_mid_run_finishes_once(
    client: httpx.AsyncClient, runtime: Runtime, forge_settings: ForgeSettings, tmp_path: Path,
) -> None:  # fmt: skip
    staff = await staff_user(client, runtime)
    await make_channel(client, staff)
    first = _worker(forge_settings, tmp_path, "worker-1", SHOP_IMPORT_HALT_BEFORE_WRITE="true")
    second: subprocess.Popen[bytes] | None = None
    try:
        resp = await client.post("/api/v1/catalogue/imports", headers=staff.headers,
                                 files={"file": ("c.csv", CSV)})  # fmt: skip
        assert resp.status_code == 202, resp.text
        job_id = resp.json()["id"]
        # Every row checked and counted, nothing written yet: kill the worker there.
        await _until(runtime, job_id, lambda j: j.status == "running" and j.processed == 3,
                     tmp_path)  # fmt: skip
        first.kill()  # SIGKILL: no clean-up, the heartbeat stops
        first.wait(timeout=30)
        assert (await _job(runtime, job_id)).status == "running"
        # A lease well above the heartbeat (a fifth of it) on a busy machine.
        second = _worker(forge_settings, tmp_path, "worker-2", SHOP_IMPORT_LEASE_S="10",
                         SHOP_IMPORT_SWEEP_INTERVAL_S="1")  # fmt: skip
        job = await _until(runtime, job_id, lambda j: j.status in ("done", "failed"), tmp_path)
        assert (job.status, job.accepted, job.rejected) == ("done", 3, 0), job.error
        async with runtime.db.session() as s:
            rows = (await s.execute(select(Product.slug, func.count()).group_by(Product.slug)
                                    .order_by(Product.slug))).all()  # fmt: skip
        assert [tuple(r) for r in rows] == [("kilt", 1), ("sock", 1)]
        record("shop-import-sigkill", status=job.status, attempts=job.attempts,
               products=len(rows), accepted=job.accepted)  # fmt: skip
    finally:
        for proc in (first, second):
            if proc is not None and proc.poll() is None:
                proc.kill()
                proc.wait(timeout=30)
