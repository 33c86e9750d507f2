"""An async inference job survives its worker being SIGKILLed mid-job (a real ``modelhub worker``
subprocess on PostgreSQL + RabbitMQ): the job ends once, with one result, billed once."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from modelhub.jobs.models import InferenceJob
from modelhub.testing import affine_onnx, host_model, process_env
from modelhub.usage.models import UsageEvent
from sqlalchemy import func, select

from forgekit.identity.testing import register_and_login
from forgekit.runtime import Runtime
from forgekit.settings import ForgeSettings
from forgekit.testing.faults import record
from forgekit.testing.servers import free_port

BODY = {"inputs": {"x": [[0.0, 1.0, 2.0, 3.0]]}}


@pytest.fixture
def app_factory():
    # The API only takes the job: it runs on the worker subprocesses alone.
    from modelhub.app import create_app
    from modelhub.settings import ModelhubSettings

    def build(settings: ForgeSettings) -> FastAPI:
        return create_app(settings, ModelhubSettings(_env_file=None, inprocess_workers=False))

    return build


def _worker(settings: ForgeSettings, tmp: Path, name: str, **extra: str) -> subprocess.Popen[bytes]:
    data = tmp / name
    data.mkdir()
    env = process_env(settings, data, free_port(), **extra)
    log = (tmp / f"{name}.log").open("wb")
    return subprocess.Popen([sys.executable, "-m", "modelhub.cli", "worker"],
                            env=env, cwd=data, stdout=log, stderr=log)  # fmt: skip


async def _job(runtime: Runtime, job_id: str) -> InferenceJob:
    async with runtime.db.session() as s:
        job = await s.get(InferenceJob, uuid.UUID(job_id))
        assert job is not None
        return job


async def _billed(runtime: Runtime, request_id: str) -> int:
    async with runtime.db.session() as s:
        stmt = select(func.count()).select_from(UsageEvent).where(
            UsageEvent.request_id == request_id)  # fmt: skip
        return int((await s.execute(stmt)).scalar_one())


async def _until(runtime: Runtime, job_id: str, statuses: tuple[str, ...]) -> InferenceJob:
    deadline = time.monotonic() + 120
    while (job := await _job(runtime, job_id)).status not in statuses:
        assert time.monotonic() < deadline, f"job stayed {job.status}, wanted {statuses}"
        await asyncio.sleep(0.1)
    return job


@pytest.mark.real
@pytest.mark.faults
@pytest.mark.timeout(300)
@pytest.mark.parametrize("backend", ["real"])
async def test_worker_killed_mid_job_ends_it_once_billed_once(
    client: httpx.AsyncClient, runtime: Runtime, forge_settings: ForgeSettings, tmp_path: Path,
) -> None:  # fmt: skip
    hosted = await host_model(client, runtime, affine_onnx(), name="jobkill")
    consumer = await register_and_login(client)
    first = _worker(forge_settings, tmp_path, "worker-1", MODELHUB_JOB_HALT_WHEN_RUNNING="true")
    second: subprocess.Popen[bytes] | None = None
    try:
        resp = await client.post(hosted.infer_url(), json=BODY, headers={
            **consumer.headers, "Prefer": "respond-async", "Idempotency-Key": "kill-1"})  # fmt: skip
        assert resp.status_code == 202, resp.text
        job_id = resp.json()["id"]
        # Running (committed by the first worker), then the worker hangs: kill it there.
        await _until(runtime, job_id, ("running",))
        first.kill()  # SIGKILL: no clean-up, the unacked delivery goes back to the queue
        first.wait(timeout=30)
        assert (await _job(runtime, job_id)).status == "running"
        second = _worker(forge_settings, tmp_path, "worker-2")
        job = await _until(runtime, job_id, ("succeeded", "failed", "cancelled"))
        assert job.status == "succeeded", job.error
        assert job.result is not None and len(job.result["outputs"]["y"]) == 1
        billed = await _billed(runtime, job.request_id)
        assert billed == 1
        # The API shows the same single result; the job is not run again on a resubmission.
        shown = await client.get(f"/api/v1/jobs/{job_id}", headers=consumer.headers)
        assert shown.json()["status"] == "succeeded" and shown.json()["result"] == job.result
        again = await client.post(hosted.infer_url(), json=BODY, headers={
            **consumer.headers, "Prefer": "respond-async", "Idempotency-Key": "kill-1"})  # fmt: skip
        assert again.status_code == 202 and again.json()["id"] == job_id
        assert await _billed(runtime, job.request_id) == 1
        record("modelhub-job-sigkill", status=job.status, billed=billed,
               finished_at=job.finished_at.isoformat() if job.finished_at else None)  # fmt: skip
    finally:
        for proc in (first, second):
            if proc is not None and proc.poll() is None:
                proc.kill()
                proc.wait(timeout=30)
