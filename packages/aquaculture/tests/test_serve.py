"""`aquaculture migrate` + `aquaculture serve` as `make run APP=aquaculture` runs them: embedded
defaults, its own port and data dir, and it classifies out of the box with the shipped model."""

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
from aquaculture.testing import fish_png

from forgekit.testing.servers import free_port

AQUA = [sys.executable, "-m", "aquaculture.cli"]


def _wait_live(proc: subprocess.Popen[str], base: str) -> None:
    deadline = time.monotonic() + 90
    while True:
        assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
        try:
            if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        assert time.monotonic() < deadline, "aquaculture did not become healthy"
        time.sleep(0.2)


def test_embedded_platform_serves_and_classifies(tmp_path: Path) -> None:
    port, data = free_port(), tmp_path / "aqua"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FORGE_", "AQUA_"))}
    env.update(AQUA_HOST="127.0.0.1", AQUA_PORT=str(port), AQUA_DATA_DIR=str(data))
    migrated = subprocess.run([*AQUA, "migrate"], env=env, cwd=tmp_path, capture_output=True,
                              text=True)  # fmt: skip
    assert migrated.returncode == 0, migrated.stderr
    assert (data / "aquaculture.db").exists()
    proc = subprocess.Popen([*AQUA, "serve"], env=env, cwd=tmp_path, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_live(proc, base)
        creds = {"email": "o@example.com", "username": "olga", "password": "correct horse"}
        # httpx's default timeout is 5 s: too short for a busy machine.
        assert httpx.post(f"{base}/auth/register", json=creds, timeout=60).status_code == 201
        token = httpx.post(
            f"{base}/auth/login", data={"username": "olga", "password": "correct horse"},
            timeout=60,
        ).json()
        h = {"Authorization": f"Bearer {token['access_token']}"}
        fid = httpx.post(f"{base}/api/v1/farms", json={"name": "F"}, headers=h,
                         timeout=60).json()["id"]  # fmt: skip
        sid = httpx.post(f"{base}/api/v1/farms/{fid}/sites", json={"name": "S"}, headers=h,
                         timeout=60).json()["id"]  # fmt: skip
        tid = httpx.post(f"{base}/api/v1/farms/{fid}/sites/{sid}/tanks", json={"name": "T"},
                         headers=h, timeout=60).json()["id"]  # fmt: skip
        resp = httpx.post(f"{base}/api/v1/farms/{fid}/tanks/{tid}/observations", headers=h,
                          files={"file": ("fish.png", fish_png(), "image/png")}, timeout=60)  # fmt: skip
        assert resp.status_code == 201, resp.text
        (obs,) = resp.json()["observations"]
        assert obs["top_k"] and obs["model_version"]
        assert "SYNTHETIC" in resp.json()["model_note"]
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    err = proc.stderr.read() if proc.stderr else ""
    assert f"Aquaculture is serving on {base}" in err
    assert "Traceback" not in err
