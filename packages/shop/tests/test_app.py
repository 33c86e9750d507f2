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


async def test_staff_must_enrol_mfa_before_acting(client: httpx.AsyncClient, runtime) -> None:
    from shop.testing import staff_user

    held = await staff_user(client, runtime, enrol=False)
    body = {"code": "eu", "name": "EU", "currency": "eur"}
    refused = await client.post("/api/v1/channels", json=body, headers=held.headers)
    assert refused.status_code == 403 and refused.json()["reason"] == "mfa_enrollment_required"
    status = (await client.get("/auth/mfa", headers=held.headers)).json()
    assert status["required"] is True and status["enabled"] is False
    enrolled = await staff_user(client, runtime)
    assert (
        await client.post("/api/v1/channels", json=body, headers=enrolled.headers)
    ).status_code == 201
    # Customers are not held.
    customer = await register_and_login(client)
    assert (await client.get("/api/v1/orders", headers=customer.headers)).status_code == 200
