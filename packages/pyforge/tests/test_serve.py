"""`pyforge migrate` + `pyforge serve` as a user runs them (what `make run` does), end to end."""

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx

from forgekit.testing.servers import free_port

PYFORGE = [sys.executable, "-m", "pyforge.cli"]




def _env(data_dir: Path, port: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FORGE_", "PYFORGE_"))}
    env.update(PYFORGE_HOST="127.0.0.1", PYFORGE_PORT=str(port), PYFORGE_DATA_DIR=str(data_dir))
    return env


def _wait_live(port: int, proc: subprocess.Popen, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.stderr.read() if proc.stderr else "server exited"
        try:
            if httpx.get(f"http://127.0.0.1:{port}/live", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.2)
    raise AssertionError("server did not become live")


def test_two_embedded_instances_side_by_side(tmp_path: Path) -> None:
    procs = []
    try:
        ports = []
        for name in ("a", "b"):
            port, data = free_port(), tmp_path / name
            env = _env(data, port)
            subprocess.run([*PYFORGE, "migrate"], env=env, check=True, capture_output=True, cwd=tmp_path)
            proc = subprocess.Popen(
                [*PYFORGE, "serve"], env=env, cwd=tmp_path, stdout=subprocess.PIPE,
                stderr=subprocess.PIPE, text=True,
            )
            procs.append(proc)
            ports.append(port)
            assert (data / "pyforge.db").exists()
        for port, proc in zip(ports, procs):
            _wait_live(port, proc)
        # Each instance has its own database: a user registered on one is unknown on the other.
        a, b = (f"http://127.0.0.1:{p}" for p in ports)
        reg = httpx.post(f"{a}/auth/register", json={"email": "x@example.com", "username": "xavier",
                                                     "password": "correct horse"}, timeout=60)
        assert reg.status_code == 201, reg.text
        login_b = httpx.post(f"{b}/auth/login", data={"username": "xavier", "password": "correct horse"},
                             timeout=60)
        assert login_b.status_code == 401
        ready = httpx.get(f"{a}/ready", timeout=60).json()
        assert ready["status"] == "ready"
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait(timeout=30)
    err = procs[0].stderr.read()
    assert f"http://127.0.0.1:{ports[0]}" in err
    assert "Traceback" not in err


def test_migrate_reports_a_bad_database_url_in_one_line(tmp_path: Path) -> None:
    env = _env(tmp_path, free_port())
    env["FORGE_DATABASE_URL"] = "postgresql+asyncpg://nobody@127.0.0.1:1/none"
    result = subprocess.run([*PYFORGE, "migrate"], env=env, capture_output=True, text=True, cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.startswith("error: migration failed")
    assert "Traceback" not in result.stderr
