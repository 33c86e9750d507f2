"""Faults of object storage: a full disk, and the reconciliation that finds what crashes leave.

The full disk is real: local storage lives on a 1 MiB tmpfs mounted for the test.
"""

from __future__ import annotations

import subprocess
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

from forgekit.identity.testing import register_and_login
from forgekit.settings import ForgeSettings
from forgekit.testing.faults import record
from forgekit.testing.fixtures import AppFactory
from pyforge.files.models import ProjectFile
from pyforge.files.tasks import reconcile_storage
from pyforge.projects.testing import new_project, zip_bytes
from pyforge.runtime import PyForgeRuntime

pytestmark = pytest.mark.faults
TMPFS_BYTES = 1024 * 1024


def _hex_file(n: int, seed: int) -> bytes:
    # Python source the archive cannot shrink much: distinct hex literals.
    return b"".join(b"X%d_%d = 0x%064x\n" % (seed, i, (seed << 40) ^ (i * 2654435761)) for i in range(n))


@pytest.fixture
def tiny_disk(tmp_path: Path) -> AsyncIterator[Path]:
    mount = tmp_path / "tiny"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={TMPFS_BYTES}", "tmpfs",
                           str(mount)], capture_output=True, text=True, check=False)  # fmt: skip
    if done.returncode != 0:
        # A fault test that cannot set up its fault must fail, never pass silently as a skip.
        pytest.fail(f"cannot mount a tmpfs here (needs root): {done.stderr.strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


@pytest.fixture
async def full_disk_app(
    app_factory: AppFactory, forge_settings: ForgeSettings, tiny_disk: Path
) -> AsyncIterator[FastAPI]:
    settings = forge_settings.model_copy(update={"storage_url": f"file://{tiny_disk}"})
    app = app_factory(settings)
    async with app.router.lifespan_context(app):
        yield app
        if hasattr(app.state.runtime.events, "delete_topology"):
            await app.state.runtime.events.delete_topology()


async def test_disk_full_answers_507_and_stores_nothing_half(
    full_disk_app: FastAPI, tiny_disk: Path
) -> None:
    runtime: PyForgeRuntime = full_disk_app.state.runtime
    transport = httpx.ASGITransport(app=full_disk_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        user = await register_and_login(client)
        pid = (await new_project(client, user))["id"]
        tree = {f"pkg/m{i}.py": _hex_file(3000, i) for i in range(6)}  # ~2.3 MiB, > the disk
        resp = await client.post(f"/api/v1/projects/{pid}/files", headers=user.headers,
                                 files={"file": ("t.zip", zip_bytes(tree))})  # fmt: skip
        assert resp.status_code == 507, resp.text
        assert resp.headers["content-type"] == "application/problem+json"
        assert resp.json()["type"].endswith("/insufficient-storage") and resp.headers["retry-after"]
        async with runtime.db.session() as s:
            assert await s.scalar(select(func.count()).select_from(ProjectFile)) == 0
        assert list((tiny_disk / ".tmp").iterdir()) == []  # no partial file left
        # The files stored before the disk filled are orphans: the reconciliation removes them.
        report = await reconcile_storage(runtime, grace_s=0)
        assert report.missing == [] and report.consistent, report
        assert report.removed_orphans == report.stored == len(report.orphans) >= 1
        record("disk-full", backend=runtime.db.dialect, status=resp.status_code, rows_written=0,
               partial_files=0, orphans_removed=report.removed_orphans)  # fmt: skip
        small = await client.post(f"/api/v1/projects/{pid}/files", headers=user.headers,
                                  files={"file": ("s.zip", zip_bytes({"a.py": b"A = 1\n"}))})  # fmt: skip
        assert small.status_code == 201, small.text
    report = await reconcile_storage(runtime, grace_s=0)
    assert (report.stored, report.orphans, report.missing) == (1, [], []), report


async def test_reconciliation_reports_rows_whose_objects_are_missing(
    client: httpx.AsyncClient, runtime: PyForgeRuntime
) -> None:
    user = await register_and_login(client)
    pid = (await new_project(client, user))["id"]
    tree = {"a.py": b"A = 1\n", "b.py": b"B = 2\n"}
    resp = await client.post(f"/api/v1/projects/{pid}/files", headers=user.headers,
                             files={"file": ("t.zip", zip_bytes(tree))})  # fmt: skip
    assert resp.status_code == 201, resp.text
    report = await reconcile_storage(runtime, grace_s=0)
    assert report.consistent and report.missing == [] and report.orphans == []
    lost = resp.json()["files"][0]["sha256"]
    await runtime.storage.delete(lost)
    report = await reconcile_storage(runtime, grace_s=0)
    assert report.missing == [lost] and not report.consistent
