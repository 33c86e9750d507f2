"""Address book (CRUD, defaults, ISO country codes), preferences, and checkout with a saved
address."""

import httpx
from shop.testing import ADDRESS, make_channel, make_product, staff_user, stock_variant

from forgekit.identity.testing import register_and_login
from forgekit.runtime import Runtime

PROBLEM = "application/problem+json"
HOME = {**ADDRESS, "label": "home", "country": "gb"}
WORK = {"name": "Ada L.", "line1": "2 Engine Street", "city": "Paris", "postcode": "75001",
        "country": "FR", "label": "work"}  # fmt: skip


async def test_address_book_defaults_and_preferences(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    staff = await staff_user(client, runtime)
    await make_channel(client, staff, "uk", "gbp")
    me = await register_and_login(client)
    url = "/api/v1/me/addresses"
    home = await client.post(url, headers=me.headers, json=HOME)
    assert home.status_code == 201, home.text
    home_body = home.json()
    # The first address is both defaults; the country is normalised to upper case.
    assert home_body["country"] == "GB"
    assert home_body["default_shipping"] and home_body["default_billing"]
    work = await client.post(url, headers=me.headers, json={**WORK, "default_billing": True})
    assert work.status_code == 201
    listed = {a["label"]: a for a in (await client.get(url, headers=me.headers)).json()}
    assert listed["home"]["default_shipping"] and not listed["home"]["default_billing"]
    assert listed["work"]["default_billing"] and not listed["work"]["default_shipping"]

    # Refusals are problem+json and store nothing.
    for bad in ({**WORK, "country": "XX"}, {**WORK, "postcode": ""}, {**WORK, "extra": 1}):
        resp = await client.post(url, headers=me.headers, json=bad)
        assert resp.status_code == 422 and resp.headers["content-type"] == PROBLEM, bad
    assert len((await client.get(url, headers=me.headers)).json()) == 2

    # Another customer sees none of them.
    other = await register_and_login(client)
    wid = work.json()["id"]
    assert (await client.get(f"{url}/{wid}", headers=other.headers)).status_code == 404
    assert (await client.delete(f"{url}/{wid}", headers=other.headers)).status_code == 404

    put = await client.put(f"{url}/{wid}", headers=me.headers,
                           json={**WORK, "city": "Lyon", "default_shipping": True})  # fmt: skip
    assert put.status_code == 200 and put.json()["city"] == "Lyon"
    assert put.json()["default_shipping"]
    assert (await client.delete(f"{url}/{wid}", headers=me.headers)).status_code == 204
    prefs = (await client.get("/api/v1/me/preferences", headers=me.headers)).json()
    assert prefs["default_shipping_address_id"] is None  # the deleted default is cleared
    assert prefs["default_billing_address_id"] is None
    assert prefs["marketing_emails"] is False and prefs["notifications"]["shipping"] is True

    changed = await client.patch(
        "/api/v1/me/preferences", headers=me.headers,
        json={"language": "fr-CA", "channel": "uk", "marketing_emails": True,
              "notifications": {"shipping": False, "back_in_stock": True}},
    )  # fmt: skip
    assert changed.status_code == 200, changed.text
    body = changed.json()
    assert (body["language"], body["channel"], body["currency"]) == ("fr-CA", "uk", "gbp")
    assert body["marketing_emails"] and body["notifications"]["back_in_stock"]
    assert not body["notifications"]["shipping"]
    unknown = await client.patch("/api/v1/me/preferences", headers=me.headers,
                                 json={"channel": "mars"})  # fmt: skip
    assert unknown.status_code == 422 and unknown.headers["content-type"] == PROBLEM
    assert (await client.get("/api/v1/me/preferences", headers=me.headers)).json() == body


async def test_checkout_with_a_saved_address(client: httpx.AsyncClient, runtime: Runtime) -> None:
    staff = await staff_user(client, runtime)
    await make_channel(client, staff)
    variant = (await make_product(client, staff))["variants"][0]["id"]
    await stock_variant(client, staff, variant, {"main": 5})
    me = await register_and_login(client)
    home = (await client.post("/api/v1/me/addresses", headers=me.headers, json=HOME)).json()
    work = (await client.post("/api/v1/me/addresses", headers=me.headers, json=WORK)).json()

    async def check_out(body: dict) -> httpx.Response:
        await client.post("/api/v1/cart/lines", headers=me.headers, json={"variant_id": variant})
        return await client.post("/api/v1/checkout", headers=me.headers, json=body)

    by_id = await check_out({"shipping_address_id": work["id"]})
    assert by_id.status_code == 201, by_id.text
    assert by_id.json()["shipping_address"]["city"] == "Paris"
    default = await check_out({})  # no address: the default shipping address
    assert default.status_code == 201 and default.json()["shipping_address"]["city"] == "London"
    assert home["default_shipping"]
    other = await register_and_login(client)
    await client.post("/api/v1/cart/lines", headers=other.headers, json={"variant_id": variant})
    theirs = await client.post("/api/v1/checkout", headers=other.headers,
                               json={"shipping_address_id": work["id"]})  # fmt: skip
    assert theirs.status_code == 404 and theirs.headers["content-type"] == PROBLEM
    none = await client.post("/api/v1/checkout", headers=other.headers, json={})
    assert none.status_code == 422
    both = await client.post("/api/v1/checkout", headers=other.headers,
                             json={"shipping_address": ADDRESS,
                                   "shipping_address_id": work["id"]})  # fmt: skip
    assert both.status_code == 422
