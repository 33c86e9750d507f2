"""Every PyForge operation needs credentials, except the explicit public list (walks the
app's routes instead of a hand-kept URL table)."""

import httpx
from fastapi import FastAPI

from forgekit.testing.routes import assert_routes_need_auth
from pyforge.web.router import router as web_router

#: PyForge's public operations: the quality badge is embedded in READMEs, where no credential
#: can be sent (it shows only the gate state, and private projects answer "unknown").
PYFORGE_PUBLIC = {"GET /api/v1/projects/{project_id}/badge.svg"}
#: The dashboard's HTML pages send a signed-out browser to sign-in (303) rather than answer
#: 401; tests/web/test_web_pages.py checks each of them. They only render a shell: every datum
#: comes from the API above.
DASHBOARD = {f"GET {route.path}" for route in web_router.routes}


async def test_every_pyforge_operation_needs_authentication(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    checked = await assert_routes_need_auth(client, app, PYFORGE_PUBLIC | DASHBOARD)
    assert checked >= 40
