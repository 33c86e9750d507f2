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
    port, data = free_port(), tmp_path / "hub"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FORGE_", "MODELHUB_"))}
    env.update(MODELHUB_HOST="127.0.0.1", MODELHUB_PORT=str(port), MODELHUB_DATA_DIR=str(data))
    migrated = subprocess.run([*MODELHUB, "migrate"], env=env, cwd=tmp_path, capture_output=True,
                              text=True)  # fmt: skip
    assert migrated.returncode == 0, migrated.stderr
    assert (data / "modelhub.db").exists()
    proc = subprocess.Popen([*MODELHUB, "serve"], env=env, cwd=tmp_path, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
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
        assert httpx.post(f"{base}/auth/register", json=creds).status_code == 201
        token = httpx.post(f"{base}/auth/login",
                           data={"username": "carol", "password": "correct horse"}).json()
        me = httpx.get(f"{base}/auth/me",
                       headers={"Authorization": f"Bearer {token['access_token']}"}).json()
        assert me["role"] == "consumer"
        assert "/api/v1/models" in httpx.get(f"{base}/openapi.json").json()["paths"]
    finally:
        proc.terminate()
        proc.wait(timeout=15)
    err = proc.stderr.read() if proc.stderr else ""
    assert f"Modelhub is serving on {base}" in err
    assert "Traceback" not in err
