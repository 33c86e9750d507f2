"""``pyforge tui`` driven by textual's Pilot: a local report (search, severity filter, the
annotated file at the finding's line) and a server's projects → analyses → findings → file
on both backends, and the CLI's one-line errors."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import zipfile
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from textual.widgets import DataTable, Input, Static

from forgekit.identity.testing import register_and_login
from forgekit.testing.loopback import serve_asgi
from pyforge.commands.client.api import ApiClient, Credentials
from pyforge.tui.app import AnalysesScreen, FileScreen, FindingsScreen, PyForgeTUI
from pyforge.tui.sources import ReportSource, ServerSource

CODE = {
    "pkg/main.py": "import os\n\n\ndef handler(x, seen=[]):\n    seen.append(x)\n    return eval(x)\n",
    "pkg/util.py": "def add(a: int, b: int) -> int:\n    return a + b\n",
}


def _write_tree(root: Path) -> None:
    for rel, text in CODE.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)


@pytest.fixture
def report(tmp_path: Path) -> Path:
    _write_tree(tmp_path / "src")
    out = tmp_path / "report.json"
    done = subprocess.run(
        [sys.executable, "-m", "pyforge.cli", "analyze", str(tmp_path / "src"), "--format", "json",
         "--output", str(out), "--no-cache"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert out.exists(), done.stderr
    return out


def _table_rows(app: PyForgeTUI) -> int:
    return app.screen.query_one(DataTable).row_count


async def test_report_search_filter_and_annotated_file(report: Path) -> None:
    total = len(json.loads(report.read_text())["findings"])
    app = PyForgeTUI(ReportSource(report))
    async with app.run_test(size=(140, 40)) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, FindingsScreen)
        assert _table_rows(app) == total > 3

        await pilot.press("slash")
        assert isinstance(app.focused, Input)
        await pilot.press(*"eval")
        await pilot.pause()
        assert _table_rows(app) == 1
        status = app.screen.query_one("#status", Static)
        assert f"1 of {total} findings" in str(status.render())

        await pilot.press("enter")  # to the table
        await pilot.press("enter")  # open the finding
        await pilot.pause()
        assert isinstance(app.screen, FileScreen)
        code = str(app.screen.query_one("#code", Static).render())
        assert "6 │     return eval(x)" in code
        assert "SEC-S307" in code and "BUG101" in code  # every finding of the file, inline

        await pilot.press("escape")
        assert isinstance(app.screen, FindingsScreen)
        await pilot.press("slash", "ctrl+a", "backspace")  # clear the search
        await pilot.press("escape")  # leave the box
        await pilot.press("s")  # severity: blocker
        await pilot.press("s")  # severity: critical
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, FindingsScreen) and screen.severity == "critical"
        assert screen.shown and all(f.severity == "critical" for f in screen.shown)


def test_cli_errors_are_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    done = subprocess.run([sys.executable, "-m", "pyforge.cli", "tui", "--report", str(bad)],
                          capture_output=True, text=True, check=False)  # fmt: skip
    assert done.returncode == 2
    assert (
        done.stderr.strip() == f"error: {bad} is not a JSON report (pyforge analyze --format json)"
    )
    missing = subprocess.run(
        [sys.executable, "-m", "pyforge.cli", "tui", "--report", str(tmp_path / "nope.json")],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert missing.returncode == 2 and "Traceback" not in missing.stderr


async def test_server_projects_to_annotated_file(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await register_and_login(client)
    headers = {"Authorization": f"Bearer {user.access_token}"}
    pid = (
        await client.post("/api/v1/projects", json={"name": "tui-demo"}, headers=headers)
    ).json()["id"]
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for rel, text in CODE.items():
            zf.writestr(rel, text)
    up = await client.post(f"/api/v1/projects/{pid}/files", files={"file": ("t.zip", buf.getvalue())},
                           headers=headers)  # fmt: skip
    assert up.status_code == 201
    aid = (await client.post(f"/api/v1/projects/{pid}/analyses", headers=headers)).json()["id"]

    async with serve_asgi(app) as base:
        creds = Credentials(server=base, username=user.username, access_token=user.access_token)
        with ApiClient(creds, persist=False) as api:
            tui = PyForgeTUI(ServerSource(api))
            async with tui.run_test(size=(140, 40)) as pilot:
                # Wait on the condition (the analysis finishing), not on time.
                while True:
                    state = (await client.get(f"/api/v1/analyses/{aid}", headers=headers)).json()
                    if state["status"] in ("succeeded", "failed"):
                        break
                    await pilot.pause(0.1)
                assert state["status"] == "succeeded"
                await pilot.pause()
                while _table_rows(tui) == 0:  # the projects load in a thread
                    await pilot.pause(0.05)
                await pilot.press("enter")
                while not isinstance(tui.screen, AnalysesScreen) or _table_rows(tui) == 0:
                    await pilot.pause(0.05)
                await pilot.press("enter")
                while not isinstance(tui.screen, FindingsScreen) or _table_rows(tui) == 0:
                    await pilot.pause(0.05)
                await pilot.press("slash", *"eval", "enter", "enter")
                while not isinstance(tui.screen, FileScreen) or "Loading" in str(
                    tui.screen.query_one("#code", Static).render()
                ):
                    await pilot.pause(0.05)
                code = str(tui.screen.query_one("#code", Static).render())
                assert "return eval(x)" in code and "SEC-S307" in code
