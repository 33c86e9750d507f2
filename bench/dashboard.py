"""Dashboard page weight and time to first render, measured in Chromium.

Starts ``pyforge serve`` on embedded defaults in a scratch directory, creates a project of 200
generated files with about 2,000 findings, analyses it, then opens the project overview, the
findings table and a file view in a fresh browser context (cold cache) three times each and
prints the medians of: bytes transferred (all responses, as the network saw them), first
contentful paint, and the time until the page's data is on screen (``#app[data-state=ready]``).

Targets (issue 10): the overview under 1 MB transferred and under 1 s to render.

    .venv/bin/python bench/dashboard.py
"""

from __future__ import annotations

import asyncio
import io
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

import httpx
from playwright.async_api import Browser, async_playwright

FILES = 200
RUNS = 3
PASSWORD = "bench password 123"


def module(i: int) -> str:
    """A file with ten findings of several rules (unused imports, mutable defaults, eval...)."""
    return (
        "import os\n\n\n"
        f"def handler_{i}(x, seen=[]):\n"
        "    seen.append(x)\n"
        "    try:\n        return eval(x)\n    except:\n        return None\n\n\n"
        f"def run_{i}(cmd):\n"
        "    import subprocess\n"
        "    return subprocess.call(cmd, shell=True)\n\n\n"
        f"def check_{i}(value):\n"
        "    if value:\n        return exec(value)\n"
        "    return value\n"
    )


def project_zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for i in range(FILES):
            zf.writestr(f"pkg/sub{i % 10}/mod_{i}.py", module(i))
    return buf.getvalue()


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_live(base: str, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit("pyforge serve exited early")
        try:
            if httpx.get(base + "/ready", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise SystemExit("pyforge serve did not become ready")


def prepare(base: str) -> tuple[str, str, int]:
    """Register, create, upload, analyse; returns (project id, a file path, findings)."""
    with httpx.Client(base_url=base, timeout=120) as c:
        c.post("/auth/register", json={"email": "bench@example.com", "username": "bench",
                                       "password": PASSWORD}).raise_for_status()  # fmt: skip
        token = c.post("/auth/login", data={"username": "bench", "password": PASSWORD}).json()
        c.headers["Authorization"] = f"Bearer {token['access_token']}"
        pid = c.post("/api/v1/projects", json={"name": "bench"}).json()["id"]
        c.post(
            f"/api/v1/projects/{pid}/files", files={"file": ("p.zip", project_zip())}
        ).raise_for_status()
        for _ in range(2):  # two analyses: the trend charts have two points
            aid = c.post(f"/api/v1/projects/{pid}/analyses").json()["id"]
            deadline = time.monotonic() + 600
            while (state := c.get(f"/api/v1/analyses/{aid}").json())["status"] not in (
                "succeeded",
                "failed",
            ):
                if time.monotonic() > deadline:
                    raise SystemExit("analysis did not finish")
                time.sleep(0.5)
            if state["status"] != "succeeded":
                raise SystemExit(f"analysis failed: {state.get('error')}")
        total = c.get(f"/api/v1/analyses/{aid}/findings", params={"limit": 1}).json()["total"]
        return pid, "pkg/sub0/mod_0.py", int(total)


async def measure(browser: Browser, base: str, path: str) -> tuple[int, float, float]:
    """(bytes transferred, first contentful paint ms, data-on-screen ms) of one cold load."""
    context = await browser.new_context()
    page = await context.new_page()
    await page.goto(base + "/signin")
    await page.get_by_label("Email or username").fill("bench")
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Sign in").click()
    await page.wait_for_url(base + "/")
    await page.wait_for_selector("#app[data-state=ready]")
    # A new page with the cache disabled: what a first visit to this page costs.
    measured = await context.new_page()
    cdp = await context.new_cdp_session(measured)
    await cdp.send("Network.enable")
    await cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
    sizes: list[int] = []
    cdp.on("Network.loadingFinished", lambda e: sizes.append(int(e["encodedDataLength"])))
    start = time.perf_counter()
    await measured.goto(base + path)
    await measured.wait_for_selector("#app[data-state=ready]", timeout=60_000)
    ready_ms = (time.perf_counter() - start) * 1000
    await measured.wait_for_load_state("networkidle")
    fcp = await measured.evaluate(
        "performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? -1"
    )
    await context.close()
    return sum(sizes), float(fcp), ready_ms


async def browse(base: str, pages: dict[str, str]) -> None:
    chromium = shutil.which("chromium")
    if chromium is None:
        raise SystemExit("chromium is not installed (make test installs it)")
    async with async_playwright() as p:
        args = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
        browser = await p.chromium.launch(executable_path=chromium, args=args)
        head = f"{'page':<10} {'transferred':>12} {'first paint':>12} {'data shown':>11}"
        print(f"{head}  (medians of {RUNS})")
        for name, path in pages.items():
            runs = [await measure(browser, base, path) for _ in range(RUNS)]
            size = statistics.median(r[0] for r in runs)
            fcp = statistics.median(r[1] for r in runs)
            ready = statistics.median(r[2] for r in runs)
            print(f"{name:<10} {size / 1024:>9.1f} KB {fcp:>9.0f} ms {ready:>8.0f} ms")
        await browser.close()


def main() -> None:
    data = Path(tempfile.mkdtemp(prefix="pyforge-bench-dash-"))
    port = free_port()
    env = {**os.environ, "PYFORGE_DATA_DIR": str(data), "PYFORGE_PORT": str(port),
           "PYFORGE_HOST": "127.0.0.1", "FORGE_RATE_LIMIT_ENABLED": "false"}  # fmt: skip
    exe = [sys.executable, "-m", "pyforge.cli"]
    subprocess.run([*exe, "migrate"], env=env, check=True, capture_output=True)
    log = (data / "serve.log").open("wb")
    proc = subprocess.Popen([*exe, "serve"], env=env, stdout=log, stderr=log)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_live(base, proc)
        pid, path, total = prepare(base)
        print(f"project: {FILES} files, {total} findings (load {os.getloadavg()[0]:.2f})")
        asyncio.run(browse(base, {
            "overview": f"/projects/{pid}",
            "findings": f"/projects/{pid}/findings",
            "file": f"/projects/{pid}/files/{path}",
        }))  # fmt: skip
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        shutil.rmtree(data, ignore_errors=True)


if __name__ == "__main__":
    main()
