"""Order e-mails through the kit's mailer (the file sink here): confirmation and shipping,
each sent once per event; refunds are covered in test_payments."""

import httpx
from shop.testing import delivered_order, make_channel, make_product, staff_user, stock_variant

from forgekit.identity.testing import register_and_login, sink_messages
from forgekit.runtime import Runtime


async def _mails(runtime: Runtime, to: str) -> dict[str, str]:
    """Subject → text body of every order message to ``to``, once the outbox is drained."""
    await runtime.events.drain(timeout_s=60)
    out: dict[str, str] = {}
    for message in sink_messages(runtime.settings.mail_sink_dir):
        if message["To"] == to and message["Subject"].startswith("Order "):
            assert message["Subject"] not in out, f"sent twice: {message['Subject']}"
            body = message.get_body(preferencelist=("plain",))
            out[message["Subject"]] = body.get_content() if body else ""
    return out


async def test_confirmation_and_shipping_mails(client: httpx.AsyncClient, runtime: Runtime) -> None:
    staff = await staff_user(client, runtime)
    await make_channel(client, staff)
    product = await make_product(client, staff, name="Enamel mug", prices={"eu": 1250})
    variant = product["variants"][0]["id"]
    await stock_variant(client, staff, variant, {"main": 3})
    customer = await register_and_login(client)
    order = await delivered_order(client, staff, customer, variant)
    ref = order["id"][:8].upper()
    mails = await _mails(runtime, order["email"])
    assert set(mails) == {f"Order {ref} confirmed", f"Order {ref} shipped"}
    confirmed = mails[f"Order {ref} confirmed"]
    assert "1 x Enamel mug" in confirmed and "12.50 EUR" in confirmed
    total = order["total"]
    assert f"Total: {total // 100}.{total % 100:02d} EUR" in confirmed
    shipped = mails[f"Order {ref} shipped"]
    assert "Carrier: DHL" in shipped and f"Tracking number: T{order['id'][:8]}" in shipped
    assert "1 x Enamel mug" in shipped


async def test_preferences_stop_shipping_notices_never_receipts(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    staff = await staff_user(client, runtime)
    await make_channel(client, staff)
    variant = (await make_product(client, staff))["variants"][0]["id"]
    await stock_variant(client, staff, variant, {"main": 3})
    quiet, picky = await register_and_login(client), await register_and_login(client)
    everything_off = {"marketing_emails": False, "notifications": {
        "order_updates": False, "shipping": False, "back_in_stock": False,
        "review_replies": False}}  # fmt: skip
    shipping_off = {"notifications": {"order_updates": True, "shipping": False}}
    for user, prefs in ((quiet, everything_off), (picky, shipping_off)):
        resp = await client.patch("/api/v1/me/preferences", headers=user.headers, json=prefs)
        assert resp.status_code == 200, resp.text
    for user in (quiet, picky):
        order = await delivered_order(client, staff, user, variant)
        ref = order["id"][:8].upper()
        # The confirmation is the record of the contract: sent whatever the preferences.
        assert set(await _mails(runtime, order["email"])) == {f"Order {ref} confirmed"}
