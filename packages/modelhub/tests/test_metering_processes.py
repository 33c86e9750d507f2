"""The metering proof: 1,000 inference calls, 10 % of them retried with the same request id on
the other process at the same moment, over two real API processes (uvicorn subprocesses) on
PostgreSQL, Redis and RabbitMQ, are billed as exactly 1,000 calls."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from modelhub.testing import affine_onnx, host_model, process_env
from modelhub.usage.models import UsageEvent, UsageHourly
from sqlalchemy import func, select

from forgekit.events.models import OutboxMessage
from forgekit.identity.testing import create_api_key, register_and_login
from forgekit.runtime import Runtime
from forgekit.settings import ForgeSettings
from forgekit.testing.servers import free_port

CALLS, RETRY_EVERY, CONCURRENCY = 1000, 10, 32


def _spawn(settings: ForgeSettings, tmp: Path, name: str) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    data = tmp / name
    data.mkdir()
    cmd = [sys.executable, "-m", "uvicorn", "--factory", "modelhub.app:create_app",
           "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"]  # fmt: skip
    log = (tmp / f"{name}.log").open("wb")
    proc = subprocess.Popen(cmd, env=process_env(settings, data, port), cwd=data, stdout=log,
                            stderr=log)  # fmt: skip
    return proc, f"http://127.0.0.1:{port}"


async def _wait_live(proc: subprocess.Popen[bytes], base: str, log: Path) -> None:
    deadline = time.monotonic() + 90
    async with httpx.AsyncClient() as http:
        while True:
            assert proc.poll() is None, log.read_text()
            try:
                if (await http.get(f"{base}/live", timeout=2)).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, f"{base} did not become live: {log.read_text()}"
            await asyncio.sleep(0.2)


async def _scalar(runtime: Runtime, stmt) -> int:  # type: ignore[no-untyped-def]
    async with runtime.db.session() as s:
        return int((await s.execute(stmt)).scalar_one())


async def _poll(runtime: Runtime, stmt, expected: int, timeout_s: float = 120) -> int:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout_s
    while (value := await _scalar(runtime, stmt)) != expected and time.monotonic() < deadline:
        await asyncio.sleep(0.25)
    return value


@pytest.mark.real
@pytest.mark.slow
@pytest.mark.timeout(900)
@pytest.mark.parametrize("backend", ["real"])
async def test_1000_calls_with_retries_over_two_api_processes_bill_exactly_1000(
    client: httpx.AsyncClient, runtime: Runtime, forge_settings: ForgeSettings, tmp_path: Path
) -> None:
    hosted = await host_model(client, runtime, affine_onnx())
    consumer = await register_and_login(client)
    key = (await create_api_key(client, consumer, [f"inference:{hosted.slug}"]))["key"]
    servers = [_spawn(forge_settings, tmp_path, name) for name in ("api-a", "api-b")]
    try:
        for (proc, base), name in zip(servers, ("api-a", "api-b"), strict=True):
            await _wait_live(proc, base, tmp_path / f"{name}.log")
        bases = [base for _, base in servers]
        statuses: dict[int, int] = {}
        gate = asyncio.Semaphore(CONCURRENCY)

        async def call(http: httpx.AsyncClient, i: int, base: str) -> None:
            async with gate:
                resp = await http.post(
                    base + hosted.infer_url(), json={"inputs": {"x": [[i, 1.0, 2.0, 3.0]]}},
                    headers={"X-API-Key": key, "Idempotency-Key": f"call-{i}"},
                )  # fmt: skip
            statuses[resp.status_code] = statuses.get(resp.status_code, 0) + 1

        calls = []
        async with httpx.AsyncClient(timeout=120) as http:
            for i in range(CALLS):
                calls.append(call(http, i, bases[i % 2]))
                if i % RETRY_EVERY == 0:  # the retry races the original on the other process
                    calls.append(call(http, i, bases[(i + 1) % 2]))
            started = time.perf_counter()
            await asyncio.gather(*calls)
            elapsed = time.perf_counter() - started
        assert statuses == {200: CALLS + CALLS // RETRY_EVERY}, statuses
        billed = select(func.count()).select_from(UsageEvent).where(
            UsageEvent.consumer_id == consumer.id)  # fmt: skip
        assert await _scalar(runtime, billed) == CALLS
        hourly = select(func.coalesce(func.sum(UsageHourly.calls), 0)).where(
            UsageHourly.consumer_id == consumer.id)  # fmt: skip
        assert await _scalar(runtime, hourly) == CALLS
        # Every counted call's usage.recorded event went out through RabbitMQ.
        published = (
            select(func.count())
            .select_from(OutboxMessage)
            .where(
                OutboxMessage.event_type == "usage.recorded",
                OutboxMessage.published_at.is_not(None),
            )
        )
        assert await _poll(runtime, published, CALLS) == CALLS
        print(f"\n{len(calls)} requests ({CALLS} distinct) over 2 processes in {elapsed:.1f} s: "
              f"{await _scalar(runtime, billed)} billed calls")  # fmt: skip
    finally:
        for proc, _ in servers:
            proc.terminate()
        for proc, _ in servers:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
