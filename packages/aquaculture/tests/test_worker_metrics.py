"""The worker role publishes prediction metrics: a real ``aquaculture worker --queues batches
--metrics-port P`` process runs a batch job, and its metrics port shows predictions per
species, the confidence histogram and the unsure counter (the drift signal's share), on both
backends."""

from __future__ import annotations

import asyncio
import io
import os
import re
import subprocess
import sys
import time
import uuid
import zipfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from aquaculture import events
from aquaculture.farms.models import Farm, Site, Tank
from aquaculture.observations.models import BatchJob
from aquaculture.product import PRODUCT
from aquaculture.settings import AquacultureSettings
from aquaculture.testing import fish_png

from forgekit.events.outbox import enqueue
from forgekit.identity.models import Team
from forgekit.settings import ForgeSettings
from forgekit.testing.servers import free_port

IMAGES = 24


def _env(settings: ForgeSettings) -> dict[str, str]:
    keep = ("database_url", "data_dir", "redis_url", "amqp_url", "redis_prefix",
            "events_exchange", "events_queue_prefix", "app_name", "env", "outbox_poll_interval_s")  # fmt: skip
    dumped = settings.model_dump(mode="json")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FORGE_", "AQUA_"))}
    env.update({f"FORGE_{k.upper()}": str(dumped[k]) for k in keep if dumped.get(k)})
    # The product's data directory becomes the kit's (storage lives under it).
    env["AQUA_DATA_DIR"] = str(settings.data_dir)
    return env


@pytest.fixture
def worker_port(forge_settings: ForgeSettings, tmp_path: Path) -> Iterator[int]:
    port = free_port()
    log = (tmp_path / "worker.log").open("wb")
    cmd = [sys.executable, "-m", "aquaculture.cli", "worker", "--queues", "batches",
           "--metrics-port", str(port)]  # fmt: skip
    proc = subprocess.Popen(cmd, env=_env(forge_settings), stdout=log,
                            stderr=subprocess.STDOUT)  # fmt: skip
    try:
        yield port
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


async def _scrape(port: int, until: str, log: Path, timeout: float = 90.0) -> str:
    deadline = time.monotonic() + timeout
    async with httpx.AsyncClient() as http:
        while True:
            try:
                text = (await http.get(f"http://127.0.0.1:{port}/metrics")).text
            except httpx.TransportError:
                text = ""
            if re.search(until, text, re.M):
                return text
            assert time.monotonic() < deadline, (text[-1500:], log.read_text()[-3000:])
            await asyncio.sleep(0.1)


def _sum(text: str, name: str) -> float:
    return sum(float(v) for v in re.findall(rf"^{name}(?:{{[^}}]*}})? (\S+)$", text, re.M))


async def test_a_worker_exposes_its_batch_predictions(
    forge_settings: ForgeSettings, worker_port: int, tmp_path: Path
) -> None:
    runtime = PRODUCT.build_runtime(forge_settings, AquacultureSettings(_env_file=None))
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as z:
        for i in range(IMAGES):
            z.writestr(f"f{i}.png", fish_png(i % 6, seed=i, size=48))
    try:
        stored = await runtime.storage.put_bytes(archive.getvalue())
        async with runtime.db.transaction() as s:
            team = Team(name=f"farm-{uuid.uuid4().hex[:6]}")
            s.add(team)
            await s.flush()
            site = Site(farm_id=team.id, name="pier")
            s.add_all([Farm(id=team.id), site])
            await s.flush()
            tank = Tank(site_id=site.id, farm_id=team.id, name="T1")
            s.add(tank)
            await s.flush()
            job = BatchJob(farm_id=team.id, tank_id=tank.id, archive_sha256=stored.key,
                           total=IMAGES, status="queued")  # fmt: skip
            s.add(job)
            await s.flush()
            await enqueue(s, events.BATCH_SUBMITTED, events.BATCH_SUBMITTED.payload(
                job_id=job.id, farm_id=team.id, tank_id=tank.id, images=IMAGES))  # fmt: skip
        text = await _scrape(worker_port, rf"^aquaculture_prediction_confidence_count {IMAGES}\.0$",
                             tmp_path / "worker.log")  # fmt: skip
    finally:
        await runtime.close()
    assert _sum(text, "aquaculture_predictions_total") == IMAGES
    species = set(re.findall(r'^aquaculture_predictions_total{[^}]*species="([a-z_]+)"', text, re.M))
    assert len(species) >= 2, species
    unsure = _sum(text, "aquaculture_unsure_predictions_total")
    assert re.search(r"^aquaculture_unsure_predictions_total{", text, re.M) and 0 <= unsure <= IMAGES
    # The worker's own liveness metrics are there too (the kit's process collector).
    assert "process_cpu_seconds_total" in text or "python_gc_objects_collected_total" in text
