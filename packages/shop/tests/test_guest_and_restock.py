"""A guest checkout pays through the fake provider and is reached by its signed order token;
returned units go back on hand in the warehouse they shipped from."""

import httpx
import pytest
from shop.testing import (
    ADDRESS,
    anonymous_cart,
    app_paying_through,
    make_channel,
    make_product,
    staff_user,
    stock_variant,
)

from forgekit.runtime import Runtime
from forgekit.testing.payments import FakeProvider, payment_provider  # noqa: F401

PROBLEM = "application/problem+json"


@pytest.fixture
def app_factory(payment_provider: FakeProvider):  # noqa: F811
    return app_paying_through(payment_provider)


async def _levels(client: httpx.AsyncClient, headers: dict, variant: str) -> dict:
    resp = await client.get(f"/api/v1/variants/{variant}/stock", headers=headers)
    assert resp.status_code == 200, resp.text
    return {s["warehouse"]: (s["on_hand"], s["reserved"]) for s in resp.json()}


async def test_guest_checkout_pays_and_is_reached_by_its_token(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    staff = await staff_user(client, runtime)
    await make_channel(client, staff)
    variant = (await make_product(client, staff, prices={"eu": 2500}))["variants"][0]["id"]
    await stock_variant(client, staff, variant, {"main": 3})
    cart = await anonymous_cart(client, variant, 2)
    no_mail = await client.post("/api/v1/checkout", headers=cart,
                                json={"shipping_address": ADDRESS})  # fmt: skip
    assert no_mail.status_code == 422 and no_mail.headers["content-type"] == PROBLEM
    placed = await client.post("/api/v1/checkout", headers=cart,
                               json={"shipping_address": ADDRESS, "email": "guest@example.com"})  # fmt: skip
    assert placed.status_code == 201, placed.text
    order = placed.json()
    oid, token = order["id"], order["order_token"]
    assert token and order["email"] == "guest@example.com"
    url = f"/api/v1/guest/orders/{oid}"
    # Without the token, or with another order's, the order does not exist.
    assert (await client.get(url)).status_code == 404
    assert (await client.get(url, headers={"X-Order-Token": token[:-2] + "AA"})).status_code == 404
    assert (await client.post(f"{url}/payment", json={"payment_method": "pm_card_visa"},
                              headers={"X-Order-Token": "x" * 43})).status_code == 404  # fmt: skip
    guest = {"X-Order-Token": token}
    assert (await client.get(url, headers=guest)).json()["status"] == "unconfirmed"
    paid = await client.post(f"{url}/payment", headers=guest,
                             json={"payment_method": "pm_card_visa"})  # fmt: skip
    assert paid.status_code == 201, paid.text
    assert paid.json()["status"] == "authorized" and paid.json()["amount"] == order["total"]
    captured = await client.post(f"{url}/payment/capture", headers=guest)
    assert captured.status_code == 200, captured.text
    assert captured.json()["captured"] == order["total"]
    assert (await client.get(url, headers=guest)).json()["status"] == "unfulfilled"
    # A signed-in checkout carries no token (the account is the key).
    assert (await client.get(f"/api/v1/orders/{oid}", headers=staff.headers)).status_code == 200


async def test_a_return_restocks_the_warehouses_units_shipped_from(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    staff = await staff_user(client, runtime)
    await make_channel(client, staff)
    variant = (await make_product(client, staff))["variants"][0]["id"]
    # Priority allocation: 2 units from "north", the third from "south".
    await stock_variant(client, staff, variant, {"north": 2, "south": 5})
    cart = await anonymous_cart(client, variant, 3)
    order = (await client.post("/api/v1/checkout", headers=cart, json={
        "shipping_address": ADDRESS, "email": "g@example.com"})).json()  # fmt: skip
    oid, line = order["id"], order["lines"][0]["id"]
    assert (await client.post(f"/api/v1/orders/{oid}/confirm", headers=staff.headers)).is_success
    shipped = await client.post(f"/api/v1/orders/{oid}/fulfilments", headers=staff.headers, json={
        "carrier": "DHL", "tracking_number": "RS0001",
        "lines": [{"line_id": line, "quantity": 3}]})  # fmt: skip
    assert shipped.status_code == 201, shipped.text
    assert await _levels(client, staff.headers, variant) == {"north": (0, 0), "south": (4, 0)}

    async def give_back(quantity: int, restock: bool = True) -> httpx.Response:
        return await client.post(f"/api/v1/orders/{oid}/returns", headers=staff.headers, json={
            "lines": [{"line_id": line, "quantity": quantity}], "restock": restock})  # fmt: skip

    assert (await give_back(2)).status_code == 200
    # Back where they came from: the two north units (the oldest shipped record first).
    assert await _levels(client, staff.headers, variant) == {"north": (2, 0), "south": (4, 0)}
    assert (await give_back(2)).status_code == 409  # one unit left to return
    assert await _levels(client, staff.headers, variant) == {"north": (2, 0), "south": (4, 0)}
    damaged = await give_back(1, restock=False)
    assert damaged.status_code == 200 and damaged.json()["order"]["status"] == "returned"
    assert await _levels(client, staff.headers, variant) == {"north": (2, 0), "south": (4, 0)}
