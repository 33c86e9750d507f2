"""Every PyForge operation needs credentials, except the explicit public list (walks the
app's routes instead of a hand-kept URL table)."""

import httpx
from fastapi import FastAPI

from forgekit.testing.routes import assert_routes_need_auth

#: PyForge's public operations: the quality badge is embedded in READMEs, where no credential
#: can be sent (it shows only the gate state, and private projects answer "unknown").
PYFORGE_PUBLIC = {"GET /api/v1/projects/{project_id}/badge.svg"}


async def test_every_pyforge_operation_needs_authentication(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    checked = await assert_routes_need_auth(client, app, PYFORGE_PUBLIC)
    assert checked >= 40
