"""Faults of whole processes on the real servers: the broker cut during a burst of analyses,
and the API killed during uploads.

The shared RabbitMQ is never stopped: every process of the stack reaches it through a loopback
proxy that the test takes down (connections reset, new ones refused) and brings back.
"""

from __future__ import annotations

import asyncio
import signal
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from forgekit.events.models import ProcessedEvent
from forgekit.testing.faults import ThreadedTcpProxy, record
from pyforge.files.tasks import reconcile_storage
from pyforge.product import PRODUCT
from pyforge.settings import PyForgeSettings
from pyforge.stack_testing import Stack, running_stack

pytestmark = pytest.mark.faults
BURST = 50
TREE = {"app/main.py": b"def handler(x):\n    return eval(x)\n"}


def _user(client: httpx.Client) -> dict[str, str]:
    name = f"f{uuid.uuid4().hex[:8]}"
    pw = "correct horse battery staple"
    assert client.post("/auth/register", json={"email": f"{name}@example.com", "username": name,
                                               "password": pw}).status_code == 201  # fmt: skip
    resp = client.post("/auth/login", data={"username": name, "password": pw})
    return {"Authorization": f"Bearer {resp.json()['access_token']}"}


def _zip(tree: dict[str, bytes]) -> bytes:
    from pyforge.projects.testing import zip_bytes

    return zip_bytes(tree)


def _project(client: httpx.Client, h: dict[str, str], tree: dict[str, bytes]) -> str:
    pid: str = client.post("/api/v1/projects", json={"name": "faults"}, headers=h).json()["id"]
    resp = client.post(f"/api/v1/projects/{pid}/files", files={"file": ("t.zip", _zip(tree))},
                       headers=h)  # fmt: skip
    assert resp.status_code == 201, resp.text
    return pid


def _queue(client: httpx.Client, h: dict[str, str], pid: str) -> str:
    resp = client.post(f"/api/v1/projects/{pid}/analyses", headers=h)
    assert resp.status_code == 202, resp.text  # the outbox takes it: no broker needed
    aid: str = resp.json()["id"]
    return aid


def _all_finished(client: httpx.Client, h: dict[str, str], aids: list[str],
                  within_s: float) -> list[dict[str, Any]]:  # fmt: skip
    deadline = time.monotonic() + within_s
    pending = set(aids)
    done: dict[str, dict[str, Any]] = {}
    while pending:
        for aid in list(pending):
            body = client.get(f"/api/v1/analyses/{aid}", headers=h).json()
            if body["status"] in ("succeeded", "failed"):
                done[aid] = body
                pending.discard(aid)
        assert time.monotonic() < deadline, f"{len(pending)} analyses unfinished"
        time.sleep(0.2)
    return [done[a] for a in aids]


async def _processed(stack: Stack, consumer: str) -> tuple[int, int]:
    runtime = PRODUCT.build_runtime(stack.forge_settings(), PyForgeSettings(_env_file=None))
    try:
        async with runtime.db.session() as s:
            rows = await s.scalar(select(func.count()).select_from(ProcessedEvent)
                                  .where(ProcessedEvent.consumer == consumer))  # fmt: skip
            distinct = await s.scalar(select(func.count(func.distinct(ProcessedEvent.event_id)))
                                      .where(ProcessedEvent.consumer == consumer))  # fmt: skip
    finally:
        await runtime.close()
    return int(rows or 0), int(distinct or 0)


@pytest.fixture
def proxied_stack(tmp_path: Path) -> Iterator[tuple[Stack, ThreadedTcpProxy]]:
    from forgekit.testing.servers import require_real_servers

    proxy = ThreadedTcpProxy(5672)
    proxy.up()
    amqp = require_real_servers().amqp_url.replace("127.0.0.1:5672", f"127.0.0.1:{proxy.port}")
    try:
        with running_stack(tmp_path, FORGE_AMQP_URL=amqp) as stack:
            yield stack, proxy
    finally:
        proxy.close()


def test_broker_cut_during_a_burst_every_analysis_completes_once(
    proxied_stack: tuple[Stack, ThreadedTcpProxy],
) -> None:
    stack, proxy = proxied_stack
    with httpx.Client(base_url=stack.base, timeout=30) as client:
        h = _user(client)
        pid = _project(client, h, TREE)
        aids = [_queue(client, h, pid) for _ in range(BURST // 2)]
        proxy.down()  # mid-burst: the relay and the worker lose the broker
        ready = client.get("/ready")
        assert ready.status_code == 503 and int(ready.headers["retry-after"]) >= 1, ready.text
        aids += [_queue(client, h, pid) for _ in range(BURST - len(aids))]
        proxy.up()  # back; everything reconnects by itself
        done = _all_finished(client, h, aids, within_s=240)
        assert client.get("/ready").status_code == 200
    assert [d["status"] for d in done] == ["succeeded"] * BURST, done
    rows, distinct = asyncio.run(_processed(stack, "analysis.runner"))
    # Counted at the consumer: every request handled, each exactly once (by event id).
    assert rows == distinct == BURST
    record("broker-cut-burst", analyses=BURST, succeeded=len(done),
           consumer_records=rows, distinct_events=distinct,
           max_attempts=max(d["attempts"] for d in done), ready_during_cut=ready.status_code)  # fmt: skip


def test_api_killed_during_uploads_leaves_no_orphans_after_reconciliation(
    tmp_path: Path,
) -> None:
    with running_stack(tmp_path, worker=False) as stack, \
            httpx.Client(base_url=stack.base, timeout=60) as client:  # fmt: skip
        h = _user(client)
        pid = _project(client, h, {"seed.py": b"S = 0\n"})

        def upload(i: int) -> int:
            tree = {f"u{i}/m{j}.py": f"V_{i}_{j} = {'x' * 20000!r}\n".encode() for j in range(20)}
            try:
                return client.post(f"/api/v1/projects/{pid}/files", headers=h,
                                   files={"file": ("t.zip", _zip(tree))}).status_code  # fmt: skip
            except httpx.TransportError:
                return 0  # the server died under this request

        assert stack.server is not None
        with ThreadPoolExecutor(8) as pool:
            futures = [pool.submit(upload, i) for i in range(16)]
            # Kill once the server has started storing objects for the uploads in flight.
            objects = Path(stack.env["PYFORGE_DATA_DIR"]) / "objects"
            deadline = time.monotonic() + 60
            while sum(1 for _ in objects.glob("??/??/*")) < 25:
                assert time.monotonic() < deadline, "no upload reached storage"
                time.sleep(0.01)
            stack.server.send_signal(signal.SIGKILL)
            codes = [f.result() for f in futures]
        stack.server.wait(timeout=30)
        stack.start_server()
        assert client.get(f"/api/v1/projects/{pid}/files", headers=h).status_code == 200

        async def check() -> tuple[Any, Any]:
            runtime = PRODUCT.build_runtime(stack.forge_settings(), PyForgeSettings(_env_file=None))
            try:
                first = await reconcile_storage(runtime, grace_s=0)
                return first, await reconcile_storage(runtime, grace_s=0)
            finally:
                await runtime.close()

        first, second = asyncio.run(check())
    assert 0 in codes, codes  # some uploads really were cut
    assert first.missing == [], first  # no row names an object that is not stored
    assert second.orphans == [] and second.missing == [] and second.consistent, second
    record("api-killed-during-uploads", uploads=len(codes), completed=codes.count(201),
           cut=codes.count(0), orphans_removed=first.removed_orphans,
           partials_removed=first.removed_partials, missing=len(first.missing),
           orphans_after=len(second.orphans))  # fmt: skip
