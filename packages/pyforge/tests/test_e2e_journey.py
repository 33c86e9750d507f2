"""End to end: ``pyforge serve`` and ``pyforge worker --queues analysis`` as separate processes
on PostgreSQL, Redis and RabbitMQ, driven over HTTP the way a user would.

The stack (scratch database, unique exchange/queue/key prefixes) is shared by the tests of this
module and removed afterwards, broker queues included.
"""

from __future__ import annotations

import io
import signal
import time
import uuid
import zipfile
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from forgekit.testing.faults import record
from pyforge.stack_testing import Stack, running_stack

BUGGY = {
    "app/main.py": b"def handler(x, seen=[]):\n    seen.append(x)\n    return eval(x)\n",
    "app/util.py": b"def add(a: int, b: int) -> int:\n    return a + b\n",
}
FIXED = {
    "app/main.py": b"def handler(x, seen=[]):\n    seen.append(x)\n    return int(x)\n",
    "app/util.py": BUGGY["app/util.py"],
}


def _zip(tree: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data in tree.items():
            zf.writestr(name, data)
    return buf.getvalue()




@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with running_stack(tmp_path_factory.mktemp("e2e")) as st:
        yield st


def _user(client: httpx.Client) -> dict[str, str]:
    name = f"e2e{uuid.uuid4().hex[:8]}"
    pw = "correct horse battery staple"
    resp = client.post("/auth/register", json={"email": f"{name}@example.com",
                                               "username": name, "password": pw})  # fmt: skip
    assert resp.status_code == 201, resp.text
    resp = client.post("/auth/login", data={"username": name, "password": pw})
    assert resp.status_code == 200, resp.text
    return {"Authorization": f"Bearer {resp.json()['access_token']}"}


def _project(client: httpx.Client, h: dict[str, str], tree: dict[str, bytes]) -> str:
    resp = client.post("/api/v1/projects", json={"name": "journey"}, headers=h)
    assert resp.status_code == 201, resp.text
    pid: str = resp.json()["id"]
    _upload(client, h, pid, tree)
    return pid


def _upload(client: httpx.Client, h: dict[str, str], pid: str, tree: dict[str, bytes]) -> None:
    resp = client.post(f"/api/v1/projects/{pid}/files", files={"file": ("src.zip", _zip(tree))},
                       data={"replace": "true"}, headers=h)  # fmt: skip
    assert resp.status_code == 201, resp.text


def _queue(client: httpx.Client, h: dict[str, str], pid: str) -> str:
    resp = client.post(f"/api/v1/projects/{pid}/analyses", headers=h)
    assert resp.status_code == 202 and resp.json()["status"] == "queued", resp.text
    aid: str = resp.json()["id"]
    return aid


def _poll(client: httpx.Client, h: dict[str, str], aid: str, within_s: float = 90,
          until: tuple[str, ...] = ("succeeded", "failed")) -> dict[str, Any]:  # fmt: skip
    deadline = time.monotonic() + within_s
    while True:
        body: dict[str, Any] = client.get(f"/api/v1/analyses/{aid}", headers=h).json()
        if body["status"] in until:
            return body
        assert time.monotonic() < deadline, body
        time.sleep(0.2)


def test_journey(stack: Stack) -> None:
    with httpx.Client(base_url=stack.base, timeout=30) as client:
        h = _user(client)
        pid = _project(client, h, BUGGY)
        first = _poll(client, h, _queue(client, h, pid))
        assert first["status"] == "succeeded", (first, (stack.logs / "worker.log").read_text())
        items = client.get(f"/api/v1/analyses/{first['id']}/findings", headers=h).json()["items"]
        rules = {f["rule"] for f in items}
        assert {"SEC-S307", "BUG101"} <= rules
        metrics = client.get(f"/api/v1/projects/{pid}/metrics", headers=h).json()
        assert metrics["analysis_id"] == first["id"] and metrics["ratings"]["security"] == "D"

        _upload(client, h, pid, FIXED)
        second = _poll(client, h, _queue(client, h, pid))
        assert second["status"] == "succeeded" and second["fixed_findings"] == 1
        fixed = client.get(f"/api/v1/analyses/{second['id']}/findings",
                           params={"status": "fixed"}, headers=h).json()["items"]  # fmt: skip
        assert [f["rule"] for f in fixed] == ["SEC-S307"]
        metrics = client.get(f"/api/v1/projects/{pid}/metrics", headers=h).json()
        assert metrics["analysis_id"] == second["id"]  # cache invalidated
        assert metrics["ratings"]["security"] == "A"


@pytest.mark.faults
def test_worker_killed_mid_analysis_completes_once(stack: Stack) -> None:
    # Replace the worker by a slow one (test hook), kill it while it runs, start a fresh one.
    assert stack.worker is not None
    stack.worker.terminate()
    stack.worker.wait(timeout=20)
    # The delay only has to outlast the time between seeing "running" and the kill: 60 s does
    # on any machine (3 s did not always: a slow poll could see the analysis finished).
    slow = stack.start_worker(PYFORGE_ANALYSIS_DELAY_S="60")
    with httpx.Client(base_url=stack.base, timeout=30) as client:
        h = _user(client)
        pid = _project(client, h, BUGGY)
        aid = _queue(client, h, pid)
        running = _poll(client, h, aid, within_s=60, until=("running", "succeeded", "failed"))
        assert running["status"] == "running", running
        slow.send_signal(signal.SIGKILL)
        slow.wait(timeout=60)
        time.sleep(0.5)
        assert client.get(f"/api/v1/analyses/{aid}", headers=h).json()["status"] == "running"
        stack.start_worker()
        done = _poll(client, h, aid, within_s=90)
        assert done["status"] == "succeeded", done
        assert done["attempts"] == 2
        items = client.get(f"/api/v1/analyses/{aid}/findings", params={"limit": 500},
                           headers=h).json()  # fmt: skip
        fingerprints = [f["fingerprint"] for f in items["items"]]
        assert len(fingerprints) == len(set(fingerprints)) == items["total"] > 0
        assert all(f["status"] == "new" for f in items["items"])
        time.sleep(1.0)  # a duplicate delivery, if any, would have run by now
        again = client.get(f"/api/v1/analyses/{aid}", headers=h).json()
        assert again["finished_at"] == done["finished_at"] and again["attempts"] == 2
        listing = client.get(f"/api/v1/projects/{pid}/analyses", headers=h).json()
        assert listing["total"] == 1
        record("worker-sigkill", status=done["status"], attempts=done["attempts"],
               findings=items["total"], duplicate_fingerprints=len(fingerprints) - len(set(fingerprints)),
               analyses_listed=listing["total"])  # fmt: skip
