"""Shop starts as a product of the kit: health, its name, its roles."""

import httpx

from forgekit.identity.testing import register_and_login


async def test_health_and_openapi_name_the_shop(client: httpx.AsyncClient) -> None:
    health = await client.get("/health")
    assert health.status_code == 200, health.text
    assert (await client.get("/openapi.json")).json()["info"]["title"] == "Shop"


async def test_self_registered_accounts_are_customers(client: httpx.AsyncClient) -> None:
    user = await register_and_login(client)
    me = await client.get("/auth/me", headers=user.headers)
    assert me.status_code == 200, me.text
    assert me.json()["role"] == "customer"
