"""Every Aquaculture operation needs credentials (walks the app's routes)."""

import httpx
from fastapi import FastAPI

from forgekit.testing.routes import assert_routes_need_auth


async def test_every_aquaculture_operation_needs_authentication(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    assert await assert_routes_need_auth(client, app) >= 15
