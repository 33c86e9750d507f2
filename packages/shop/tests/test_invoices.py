"""Invoices: issued as a PDF by the worker when an order is paid, numbered without gaps per
year (also when orders are confirmed at once), downloadable by the customer and staff; the PDF
is read back and its lines and totals checked."""

import asyncio
import io
from datetime import date
from typing import Any

import httpx
import pypdf
from shop.invoices.models import Invoice
from shop.invoices.render import InvoiceData, render
from shop.testing import ADDRESS, make_channel, make_product, staff_user, stock_variant
from sqlalchemy import select

from forgekit.db.base import utcnow
from forgekit.identity.testing import TestUser, register_and_login
from forgekit.runtime import Runtime


def _money(minor: int) -> str:
    return f"{minor // 100}.{minor % 100:02d} EUR"


async def _order(
    client: httpx.AsyncClient, customer: TestUser, lines: dict[str, int]
) -> dict[str, Any]:
    for variant, quantity in lines.items():
        resp = await client.post(
            "/api/v1/cart/lines",
            headers=customer.headers,
            json={"variant_id": variant, "quantity": quantity},
        )
        assert resp.status_code == 200, resp.text
    placed = await client.post(
        "/api/v1/checkout", headers=customer.headers, json={"shipping_address": ADDRESS}
    )
    assert placed.status_code == 201, placed.text
    order: dict[str, Any] = placed.json()
    return order


async def test_paid_orders_get_numbered_pdf_invoices(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    staff = await staff_user(client, runtime)
    await make_channel(client, staff)
    mug = await make_product(client, staff, name="Enamel mug", prices={"eu": 1250})
    cup = await make_product(client, staff, name="Kaffeebecher – grün", prices={"eu": 899})
    mug_v, cup_v = mug["variants"][0]["id"], cup["variants"][0]["id"]
    await stock_variant(client, staff, mug_v, {"main": 20})
    await stock_variant(client, staff, cup_v, {"main": 20})
    ada = await register_and_login(client)
    order = await _order(client, ada, {mug_v: 2, cup_v: 1})
    url = f"/api/v1/orders/{order['id']}/invoice.pdf"
    unpaid = await client.get(url, headers=ada.headers)
    assert (
        unpaid.status_code == 404 and unpaid.headers["content-type"] == "application/problem+json"
    )
    confirmed = await client.post(f"/api/v1/orders/{order['id']}/confirm", headers=staff.headers)
    assert confirmed.status_code == 200, confirmed.text
    await runtime.events.drain(timeout_s=60)

    resp = await client.get(url, headers=ada.headers)
    assert resp.status_code == 200, resp.text
    assert resp.headers["content-type"] == "application/pdf"
    number = f"{utcnow().year}-000001"
    assert f'filename="invoice-{number}.pdf"' in resp.headers["content-disposition"]
    text = "\n".join(
        page.extract_text() for page in pypdf.PdfReader(io.BytesIO(resp.content)).pages
    )
    assert f"Invoice {number}" in text and ADDRESS["name"] in text and ada.email in text
    assert "Enamel mug" in text and "Kaffeebecher – grün" in text
    assert _money(2500) in text and _money(899) in text  # line amounts
    for key in ("subtotal", "shipping", "tax", "total"):
        assert _money(order[key]) in text, key
    assert order["subtotal"] == 2 * 1250 + 899
    # Staff read any invoice; another customer reads none.
    staff_copy = await client.get(url, headers=staff.headers)
    assert staff_copy.status_code == 200 and staff_copy.content == resp.content
    bob = await register_and_login(client)
    assert (await client.get(url, headers=bob.headers)).status_code == 404

    # Four orders confirmed at the same moment: numbers 2..5, no gap, no duplicate.
    more = [await _order(client, bob, {mug_v: 1}) for _ in range(4)]
    confirms = await asyncio.gather(
        *(client.post(f"/api/v1/orders/{o['id']}/confirm", headers=staff.headers) for o in more)
    )
    assert [c.status_code for c in confirms] == [200] * 4
    await runtime.events.drain(timeout_s=60)
    async with runtime.db.session() as session:
        issued = (await session.scalars(select(Invoice).order_by(Invoice.sequence))).all()
    assert [i.sequence for i in issued] == [1, 2, 3, 4, 5]
    assert [i.number for i in issued] == [f"{utcnow().year}-{n:06d}" for n in range(1, 6)]
    assert {str(i.order_id) for i in issued} == {order["id"], *(o["id"] for o in more)}


def test_without_a_unicode_font_the_core_font_prints_what_latin1_can() -> None:
    data = InvoiceData(
        number="2026-000007",
        issued=date(2026, 5, 1),
        order_ref="ABCD1234",
        issuer=["Shop"],
        bill_to=["Zoë Zoltán"],
        currency="eur",
        lines=[("CUP-1", "Kaffeebecher – grün", 3, 899, 2697)],
        subtotal=2697,
        discount=300,
        shipping=490,
        tax=577,
        total=3464,
    )
    pdf = render(data, font=None)
    text = pypdf.PdfReader(io.BytesIO(pdf)).pages[0].extract_text()
    assert "Invoice 2026-000007" in text and "Zoë Zoltán" in text
    assert "Kaffeebecher ? grün" in text  # the en dash is not Latin-1
    assert "-3.00 EUR" in text and "34.64 EUR" in text and "26.97 EUR" in text
