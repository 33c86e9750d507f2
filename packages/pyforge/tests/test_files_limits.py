"""Upload size limits: an upload over ``max_upload_bytes`` is a 413 and stores nothing."""

from __future__ import annotations

import httpx
import pytest

from forgekit.identity.testing import register_and_login
from forgekit.runtime import Runtime
from forgekit.settings import ForgeSettings
from pyforge.projects.testing import PROJECTS, file_rows, new_project, stored_objects

LIMIT = 64 * 1024


@pytest.fixture
def forge_settings(forge_settings: ForgeSettings) -> ForgeSettings:
    return forge_settings.model_copy(update={"max_upload_bytes": LIMIT})


async def test_oversize_upload_is_refused(client: httpx.AsyncClient, runtime: Runtime) -> None:
    owner = await register_and_login(client)
    pid = (await new_project(client, owner))["id"]
    url = f"{PROJECTS}/{pid}/files"
    resp = await client.post(
        url, files={"file": ("big.bin", b"x" * (LIMIT + 1))}, headers=owner.headers
    )
    assert resp.status_code == 413, resp.text
    assert resp.headers["content-type"] == "application/problem+json"
    assert await file_rows(runtime) == 0 and stored_objects(runtime) == 0
    resp = await client.post(url, files={"file": ("small.py", b"x = 1\n")}, headers=owner.headers)
    assert resp.status_code == 201
