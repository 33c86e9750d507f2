"""`modelhub migrate` + `modelhub serve` as `make run APP=modelhub` runs them, beside PyForge."""

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx

from forgekit.testing.servers import free_port

MODELHUB = [sys.executable, "-m", "modelhub.cli"]


def test_embedded_marketplace_serves_on_its_own_port_and_data_dir(tmp_path: Path) -> None:
    port, data, fake_port = free_port(), tmp_path / "hub", free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FORGE_", "MODELHUB_"))}
    env.update(MODELHUB_HOST="127.0.0.1", MODELHUB_PORT=str(port), MODELHUB_DATA_DIR=str(data),
               MODELHUB_PAYMENTS_FAKE_PORT=str(fake_port))  # fmt: skip
    migrated = subprocess.run([*MODELHUB, "migrate"], env=env, cwd=tmp_path, capture_output=True,
                              text=True)  # fmt: skip
    assert migrated.returncode == 0, migrated.stderr
    assert (data / "modelhub.db").exists()
    proc = subprocess.Popen([*MODELHUB, "serve"], env=env, cwd=tmp_path, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
            try:
                if httpx.get(f"{base}/live", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "modelhub did not become live"
            time.sleep(0.2)
        creds = {"email": "c@example.com", "username": "carol", "password": "correct horse"}
        # httpx's default timeout is 5 s: too short for a busy machine.
        assert httpx.post(f"{base}/auth/register", json=creds, timeout=60).status_code == 201
        token = httpx.post(f"{base}/auth/login", timeout=60,
                           data={"username": "carol", "password": "correct horse"}).json()
        me = httpx.get(f"{base}/auth/me", timeout=60,
                       headers={"Authorization": f"Bearer {token['access_token']}"}).json()
        assert me["role"] == "consumer"
        assert "/api/v1/models" in httpx.get(f"{base}/openapi.json", timeout=60).json()["paths"]
        # No provider configured: it pays through the kit's fake, started beside it.
        plan = {"plan": "starter", "payment_method": "pm_card_visa"}
        auth = {"Authorization": f"Bearer {token['access_token']}"}
        deadline = time.monotonic() + 90  # the fake's own start, counted from here
        while True:
            sub = httpx.put(f"{base}/api/v1/billing/subscription", json=plan, headers=auth,
                            timeout=60)
            if sub.status_code != 503:  # the fake may still be starting
                break
            assert time.monotonic() < deadline, sub.text
            time.sleep(0.2)
        assert (sub.status_code, sub.json()["status"]) == (200, "active"), sub.text
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    try:  # stopped with the server
        httpx.get(f"http://127.0.0.1:{fake_port}/_control/health", timeout=1)
        raise AssertionError("the local fake outlived the server")
    except httpx.TransportError:
        pass
    err = proc.stderr.read() if proc.stderr else ""
    assert f"Modelhub is serving on {base}" in err
    assert "Traceback" not in err
