"""Every operation of the kit's app needs credentials, except the explicit public list."""

import httpx
from fastapi import FastAPI

from forgekit.testing.routes import assert_routes_need_auth


async def test_every_kit_operation_needs_authentication(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    checked = await assert_routes_need_auth(client, app)
    # The walk saw the kit's private operations (API keys, /auth/me, teams and members).
    assert checked >= 15
