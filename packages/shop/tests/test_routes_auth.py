"""Every Shop operation needs credentials except the storefront's reads (walks the routes)."""

import httpx
from fastapi import FastAPI
from shop.router_public import PUBLIC_OPERATIONS

from forgekit.testing.routes import assert_routes_need_auth


async def test_every_shop_operation_but_the_storefront_needs_authentication(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    assert await assert_routes_need_auth(client, app, PUBLIC_OPERATIONS) >= 8
