"""The dashboard in a real browser: Playwright driving Debian's Chromium against the app served
on loopback, on both backends.

The journey of issue 10: sign up (with a refused password first), sign in, create a project,
upload a .zip, run an analysis and watch it finish, a second analysis for the trend chart,
filter findings, open one in the file view at its line, mark it false positive, see it stay so
after a new analysis. Along the way: no request leaves the PyForge server, no console error,
a read-only viewer sees no action, another user's private project is a 404 page, and an
expired access cookie goes through sign-in and back. Screenshots of every page are written to
``.artifacts/screenshots/<backend>/`` (not committed).
"""

from __future__ import annotations

import asyncio
import io
import os
import re
import shutil
import time
import zipfile
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import httpx
import pyotp
import pytest
from fastapi import FastAPI
from playwright.async_api import Browser, Page, async_playwright, expect

from forgekit.identity.testing import register_and_login
from forgekit.settings import ForgeSettings
from forgekit.testing.loopback import serve_asgi

TIMEOUT_MS = 90_000  # a busy two-core machine: wait on conditions, generously
# ``expect`` assertions have their own default (5 s), which ``page.set_default_timeout`` does
# not change: they wait this long too (they return as soon as the condition holds).
expect.set_options(timeout=TIMEOUT_MS)
SHOTS = Path(
    os.environ.get("PYFORGE_SCREENSHOTS", Path(__file__).parents[4] / ".artifacts" / "screenshots")
)
CODE = {
    "app/main.py": "import os\n\n\ndef handler(x, seen=[]):\n    seen.append(x)\n    return eval(x)\n",
    "app/util.py": "def add(a: int, b: int) -> int:\n    return a + b\n",
}


def _zip(tree: dict[str, str]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, text in tree.items():
            zf.writestr(name, text)
    return buf.getvalue()


def chromium_path() -> str:
    """Debian's Chromium; ``make test`` installs it. Missing is a failure, never a skip."""
    path = shutil.which("chromium")
    assert path, "Chromium is not installed: run `make test` (it installs Debian's chromium)"
    return path


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as p:
        b = await p.chromium.launch(
            executable_path=chromium_path(),
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        try:
            yield b
        finally:
            await b.close()


@pytest.fixture
async def base_url(app: FastAPI) -> AsyncIterator[str]:
    async with serve_asgi(app) as url:
        yield url


class Watch:
    """Console errors and requests that left the server, for one page."""

    def __init__(self, page: Page, base: str) -> None:
        self.errors: list[str] = []
        self.outside: list[str] = []
        origin = base.split("://", 1)[1]
        page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: self.errors.append(str(e)))
        page.on("request", lambda r: None if r.url.split("://", 1)[1].startswith(origin)
                else self.outside.append(r.url))  # fmt: skip


async def until(condition: Callable[[], bool], timeout_s: float = TIMEOUT_MS / 1000) -> None:
    """Wait for ``condition`` (polled), failing only after a generous deadline."""
    deadline = asyncio.get_running_loop().time() + timeout_s
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "condition not met in time"
        await asyncio.sleep(0.05)


async def shot(page: Page, backend: str, name: str) -> None:
    folder = SHOTS / backend
    folder.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(folder / f"{name}.png"), full_page=True)


async def sign_up(page: Page, base: str, username: str, password: str) -> None:
    await page.goto(base + "/signup")
    await page.get_by_label("Email").fill(f"{username}@example.com")
    await page.get_by_label("Username").fill(username)
    await page.get_by_label("Password").fill(password)
    await page.get_by_role("button", name="Sign up").click()
    await page.wait_for_url(base + "/")


async def run_analysis(page: Page) -> str:
    await page.get_by_role("link", name="Overview", exact=True).click()
    await page.get_by_role("button", name="Run analysis").click()
    await page.wait_for_url(re.compile(r".*/analyses/[0-9a-f-]+$"))
    await expect(page.locator("#analysis-status")).to_have_text("succeeded", timeout=TIMEOUT_MS)
    return page.url


async def test_dashboard_journey(
    browser: Browser, base_url: str, backend: str, forge_settings: ForgeSettings
) -> None:
    context = await browser.new_context(viewport={"width": 1280, "height": 900})
    page = await context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    watch = Watch(page, base_url)
    base = base_url

    # Sign up: the server's problem detail shows next to the field; then a valid account.
    await page.goto(base + "/signup")
    await shot(page, backend, "signup")
    await page.get_by_label("Email").fill("ann@example.com")
    await page.get_by_label("Username").fill("ann")
    await page.get_by_label("Password").fill("short")
    await page.get_by_role("button", name="Sign up").click()
    await expect(page.locator("#password-error")).not_to_be_empty()
    await shot(page, backend, "signup-error")
    watch.errors.clear()  # the browser logs the refused request itself; that one was wanted
    await page.get_by_label("Password").fill("correct horse battery")
    await page.get_by_role("button", name="Sign up").click()
    await page.wait_for_url(base + "/")

    # Sign out and in again through the sign-in form.
    await page.get_by_role("button", name="Sign out").click()
    await page.wait_for_url(re.compile(r".*/signin"))
    await shot(page, backend, "signin")
    await page.get_by_label("Email or username").fill("ann")
    await page.get_by_label("Password").fill("correct horse battery")
    await page.get_by_role("button", name="Sign in").click()
    await page.wait_for_url(base + "/")

    # A project, its code, an analysis with live progress.
    await page.get_by_label("Project name").fill("demo")
    await page.get_by_role("button", name="Create project").click()
    await page.wait_for_url(re.compile(r".*/projects/[0-9a-f-]+$"))
    project_url = page.url
    await page.locator("#upload-files").set_input_files(
        files=[{"name": "code.zip", "mimeType": "application/zip", "buffer": _zip(CODE)}]
    )
    await page.get_by_role("button", name="Upload").click()
    await expect(page.get_by_role("status").filter(has_text="Uploaded: 2 added")).to_be_visible()
    await run_analysis(page)
    await shot(page, backend, "analysis")

    # The analyses list follows a new analysis live, over the WebSocket, authenticated by the
    # session cookie alone (the list page does not poll).
    frames: list[str] = []
    page.on("websocket", lambda ws: ws.on("framereceived", lambda f: frames.append(str(f))))
    await page.get_by_role("link", name="Analyses", exact=True).click()
    await expect(page.locator("tbody tr")).to_have_count(1)
    await until(lambda: any("subscribed" in f for f in frames))
    csrf = next(c["value"] for c in await context.cookies() if c["name"].endswith("_csrf"))
    queued = await page.request.post(project_url.replace("/projects/", "/api/v1/projects/") + "/analyses",
                                     headers={"X-CSRF-Token": csrf})  # fmt: skip
    assert queued.status == 202, await queued.text()
    await expect(page.locator("tbody tr")).to_have_count(2)
    await expect(page.locator("tbody tr").first).to_contain_text("succeeded", timeout=TIMEOUT_MS)
    # The row can turn "succeeded" on an earlier frame's refetch (the row is committed before
    # the completion event is relayed), so wait for the completion frame itself.
    await until(lambda: any("analysis.completed" in f for f in frames))
    await shot(page, backend, "analyses")

    await page.get_by_role("link", name="Overview", exact=True).click()
    await expect(page.locator(".gate")).to_have_text(re.compile("Passed|Failed"))
    await expect(page.locator(".rating-card .rating")).to_have_count(3)
    await expect(page.locator("figure.chart-card svg circle")).to_have_count(6)  # 3 charts x 2
    await shot(page, backend, "overview")


    # Findings: filter to critical, open the eval() finding in the file view at its line.
    await page.get_by_role("link", name="Findings", exact=True).click()
    await page.get_by_label("Severity").select_option("critical")
    await page.get_by_role("button", name="Filter").click()
    rows = page.locator("table.findings tbody tr")
    await expect(rows).to_have_count(1)
    await expect(rows.first).to_contain_text("eval")
    await shot(page, backend, "findings")
    await rows.first.get_by_role("link", name="app/main.py:6").click()
    await page.wait_for_url(re.compile(r".*/files/app/main\.py#L6$"))
    await expect(page.locator("tr#L6.target")).to_be_visible()
    inline = page.locator("tr.inline-finding", has_text="SEC-S307")
    await expect(inline).to_be_visible()
    await shot(page, backend, "file")

    # Mark it false positive with a reason; it stays so after the next analysis.
    await inline.get_by_label("Reason").fill("input is trusted config")
    await inline.get_by_role("button", name="False positive").click()
    await expect(page.locator("tr.inline-finding", has_text="SEC-S307")).to_contain_text(
        "false positive"
    )
    await run_analysis(page)
    await page.goto(project_url + "/files/app/main.py")
    await expect(page.locator("tr.inline-finding", has_text="SEC-S307")).to_contain_text(
        "false positive (input is trusted config)"
    )

    # The rule page documents the rule.
    await page.get_by_role("link", name="SEC-S307").click()
    await expect(page.get_by_role("heading", level=1)).to_contain_text("SEC-S307")
    await shot(page, backend, "rule")

    for path, name in (("/settings", "settings"), ("/teams", "teams"),
                       (project_url.removeprefix(base) + "/settings", "project-settings")):  # fmt: skip
        await page.goto(base + path)
        await expect(page.locator("#app")).to_have_attribute("data-state", "ready")
        await shot(page, backend, name)

    # An expired access cookie: the page goes through sign-in and comes back by itself.
    session_cookie = f"{forge_settings.app_name}_session"
    assert session_cookie in {c["name"] for c in await context.cookies()}
    await context.clear_cookies(name=session_cookie)
    visited: list[str] = []
    page.on("framenavigated", lambda frame: visited.append(frame.url))
    await page.goto(project_url + "/findings")
    await page.wait_for_url(project_url + "/findings")
    assert any("/signin?next=" in url for url in visited), visited
    await expect(page.locator("#app")).to_have_attribute("data-state", "ready")

    assert watch.outside == [], f"requests outside the server: {watch.outside}"
    assert watch.errors == [], f"console errors: {watch.errors}"
    await context.close()


async def test_viewer_sees_no_actions_and_outsiders_get_404(
    browser: Browser, base_url: str, backend: str
) -> None:
    owner_ctx = await browser.new_context()
    owner = await owner_ctx.new_page()
    owner.set_default_timeout(TIMEOUT_MS)
    await sign_up(owner, base_url, "olga", "correct horse battery")
    await owner.get_by_label("Project name").fill("shared")
    await owner.get_by_label("Public (every signed-in user can read it)").check()
    await owner.get_by_role("button", name="Create project").click()
    await owner.wait_for_url(re.compile(r".*/projects/[0-9a-f-]+$"))
    public_url = owner.url
    await owner.goto(base_url + "/")
    await owner.get_by_label("Project name").fill("secret")
    await owner.get_by_role("button", name="Create project").click()
    await owner.wait_for_url(re.compile(r".*/projects/[0-9a-f-]+$"))
    private_url = owner.url

    viewer_ctx = await browser.new_context()
    viewer = await viewer_ctx.new_page()
    viewer.set_default_timeout(TIMEOUT_MS)
    watch = Watch(viewer, base_url)
    await sign_up(viewer, base_url, "victor", "correct horse battery")

    await viewer.goto(public_url)
    await expect(viewer.locator("h1")).to_contain_text("(viewer)")
    await expect(viewer.locator("#app")).to_have_attribute("data-state", "ready")
    await expect(viewer.get_by_role("button", name="Run analysis")).to_have_count(0)
    await expect(viewer.get_by_role("button", name="Upload")).to_have_count(0)
    await expect(viewer.get_by_role("link", name="Settings", exact=True)).to_have_count(1)  # own
    await expect(viewer.locator("#app")).not_to_contain_text("null")
    await shot(viewer, backend, "overview-viewer")

    assert watch.errors == [], f"console errors: {watch.errors}"
    response = await viewer.goto(private_url)
    assert response is not None and response.status == 404
    await expect(viewer.get_by_role("heading", name="Not found")).to_be_visible()
    await shot(viewer, backend, "not-found")

    anonymous = await (await browser.new_context()).new_page()
    await anonymous.goto(private_url)
    assert anonymous.url.startswith(base_url + "/signin?next=")
    # The only console line is the browser's own note of the 404 document it was sent.
    assert [e for e in watch.errors if "status of 404" not in e] == []
    assert watch.outside == []
    for ctx in (owner_ctx, viewer_ctx):
        await ctx.close()


async def test_sign_in_asks_an_mfa_account_for_its_code(
    browser: Browser, base_url: str, client: httpx.AsyncClient
) -> None:
    user = await register_and_login(client)
    secret = (await client.post("/auth/mfa/totp", headers=user.headers)).json()["secret"]
    authenticator = pyotp.TOTP(secret)
    confirmed_at = time.time()
    confirmed = await client.post(
        "/auth/mfa/totp/confirm", json={"code": authenticator.at(confirmed_at)}, headers=user.headers
    )
    assert confirmed.status_code == 200, confirmed.text

    page = await (await browser.new_context()).new_page()
    page.set_default_timeout(TIMEOUT_MS)
    watch = Watch(page, base_url)
    await page.goto(base_url + "/signin")
    await page.get_by_label("Email or username").fill(user.username)
    await page.get_by_label("Password").fill(user.password)
    await page.get_by_role("button", name="Sign in").click()
    code_box = page.get_by_label("Authentication code")
    await expect(code_box).to_be_visible()
    assert page.url.endswith("/signin")  # no session without the code
    # A later time step than the confirmation's: each step is accepted once.
    await code_box.fill(authenticator.at(max(time.time(), confirmed_at + 30)))
    await page.get_by_role("button", name="Sign in").click()
    await page.wait_for_url(base_url + "/")
    assert watch.errors == [] and watch.outside == []
