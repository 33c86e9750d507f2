"""Every Modelhub operation needs credentials (walks the app's routes)."""

import httpx
from fastapi import FastAPI

from forgekit.testing.routes import assert_routes_need_auth


async def test_every_modelhub_operation_needs_authentication(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    # The provider's webhooks carry no login: their HMAC signature authenticates them
    # (test_billing_webhooks covers the refusals).
    public = {"POST /api/v1/payments/webhooks"}
    assert await assert_routes_need_auth(client, app, public) >= 20
