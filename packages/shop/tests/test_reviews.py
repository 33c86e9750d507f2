"""Reviews: verified purchase only, one per customer and product, moderation, helpful votes,
the rating average and search sorted by rating."""

import asyncio

import httpx
from shop.reviews.models import Review
from shop.testing import delivered_order, make_channel, make_product, staff_user, stock_variant
from sqlalchemy import func, select

from forgekit.identity.testing import TestUser, register_and_login
from forgekit.runtime import Runtime

PROBLEM = "application/problem+json"


async def _stocked(client: httpx.AsyncClient, staff: TestUser, **fields: object) -> dict:
    product = await make_product(client, staff, prices={"eu": 1000}, **fields)
    await stock_variant(client, staff, product["variants"][0]["id"], {"main": 20})
    return product


async def _review_count(runtime: Runtime) -> int:
    async with runtime.db.session() as session:
        return int(await session.scalar(select(func.count()).select_from(Review)) or 0)


async def _approved_review(
    client: httpx.AsyncClient, staff: TestUser, product: dict, rating: int
) -> tuple[TestUser, dict]:
    customer = await register_and_login(client)
    await delivered_order(client, staff, customer, product["variants"][0]["id"])
    made = await client.post(
        f"/api/v1/products/{product['id']}/reviews",
        headers=customer.headers,
        json={"rating": rating, "title": f"{rating} stars"},
    )
    assert made.status_code == 201, made.text
    done = await client.post(
        f"/api/v1/reviews/{made.json()['id']}/moderation",
        headers=staff.headers,
        json={"decision": "approve"},
    )
    assert done.status_code == 200, done.text
    return customer, done.json()


async def test_only_a_delivered_order_earns_a_review(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    staff = await staff_user(client, runtime)
    await make_channel(client, staff)
    product = await _stocked(client, staff)
    url = f"/api/v1/products/{product['id']}/reviews"
    body = {"rating": 4, "title": "Sturdy", "body": "Survived a winter."}
    customer = await register_and_login(client)
    never = await client.post(url, headers=customer.headers, json=body)
    assert never.status_code == 403 and never.headers["content-type"] == PROBLEM
    # Bought and paid but not shipped yet: still no review.
    await client.post(
        "/api/v1/cart/lines",
        headers=customer.headers,
        json={"variant_id": product["variants"][0]["id"]},
    )
    from shop.testing import ADDRESS

    placed = await client.post(
        "/api/v1/checkout", headers=customer.headers, json={"shipping_address": ADDRESS}
    )
    assert placed.status_code == 201, placed.text
    await client.post(f"/api/v1/orders/{placed.json()['id']}/confirm", headers=staff.headers)
    assert (await client.post(url, headers=customer.headers, json=body)).status_code == 403
    assert await _review_count(runtime) == 0

    await delivered_order(client, staff, customer, product["variants"][0]["id"])
    for bad in ({**body, "rating": 0}, {**body, "rating": 6}, {**body, "title": ""}):
        refused = await client.post(url, headers=customer.headers, json=bad)
        assert refused.status_code == 422 and refused.headers["content-type"] == PROBLEM
    assert (await client.post(url, json=body)).status_code == 401
    missing = "/api/v1/products/00000000-0000-0000-0000-000000000000/reviews"
    assert (await client.post(missing, headers=customer.headers, json=body)).status_code == 404
    # Five at once: the unique constraint lets exactly one through.
    tries = await asyncio.gather(
        *(client.post(url, headers=customer.headers, json=body) for _ in range(5))
    )
    assert sorted(r.status_code for r in tries) == [201, 409, 409, 409, 409]
    assert await _review_count(runtime) == 1
    review = next(r.json() for r in tries if r.status_code == 201)
    assert review["status"] == "pending" and review["rating"] == 4
    # Pending reviews are not shown and not counted.
    page = (await client.get(url)).json()
    assert page["items"] == [] and page["rating"]["count"] == 0
    assert page["rating"]["average"] is None


async def test_moderation_queue_is_for_staff(client: httpx.AsyncClient, runtime: Runtime) -> None:
    staff = await staff_user(client, runtime)
    await make_channel(client, staff)
    product = await _stocked(client, staff)
    customer = await register_and_login(client)
    await delivered_order(client, staff, customer, product["variants"][0]["id"])
    made = await client.post(
        f"/api/v1/products/{product['id']}/reviews",
        headers=customer.headers,
        json={"rating": 2, "title": "Meh"},
    )
    rid = made.json()["id"]
    assert (await client.get("/api/v1/reviews/queue", headers=customer.headers)).status_code == 403
    forbidden = await client.post(
        f"/api/v1/reviews/{rid}/moderation", headers=customer.headers, json={"decision": "approve"}
    )
    assert forbidden.status_code == 403
    queue = (await client.get("/api/v1/reviews/queue", headers=staff.headers)).json()
    assert [r["id"] for r in queue] == [rid]
    moderation = f"/api/v1/reviews/{rid}/moderation"
    bad = await client.post(moderation, headers=staff.headers, json={"decision": "maybe"})
    assert bad.status_code == 422
    # Two moderators at once: one wins, the other is told it is done.
    both = await asyncio.gather(
        client.post(moderation, headers=staff.headers, json={"decision": "reject"}),
        client.post(moderation, headers=staff.headers, json={"decision": "reject"}),
    )
    assert sorted(r.status_code for r in both) == [200, 409]
    assert (await client.get("/api/v1/reviews/queue", headers=staff.headers)).json() == []
    unknown = await client.post(
        "/api/v1/reviews/00000000-0000-0000-0000-000000000000/moderation",
        headers=staff.headers,
        json={"decision": "approve"},
    )
    assert unknown.status_code == 404 and unknown.headers["content-type"] == PROBLEM
    page = (await client.get(f"/api/v1/products/{product['id']}/reviews")).json()
    assert page["items"] == [] and page["rating"]["count"] == 0


async def test_helpful_votes_once_per_user(client: httpx.AsyncClient, runtime: Runtime) -> None:
    staff = await staff_user(client, runtime)
    await make_channel(client, staff)
    product = await _stocked(client, staff)
    author, review = await _approved_review(client, staff, product, 5)
    _, other = await _approved_review(client, staff, product, 3)
    helpful = f"/api/v1/reviews/{other['id']}/helpful"
    readers = [await register_and_login(client) for _ in range(2)]
    first = await client.post(helpful, headers=readers[0].headers)
    assert first.status_code == 200 and first.json()["helpful"] == 1
    again = await client.post(helpful, headers=readers[0].headers)
    assert again.status_code == 409 and again.headers["content-type"] == PROBLEM
    assert (await client.post(helpful, headers=readers[1].headers)).json()["helpful"] == 2
    own = await client.post(f"/api/v1/reviews/{review['id']}/helpful", headers=author.headers)
    assert own.status_code == 403
    page = (await client.get(f"/api/v1/products/{product['id']}/reviews")).json()
    # Most helpful first; the average is over approved reviews.
    assert [(r["id"], r["helpful"]) for r in page["items"]] == [(other["id"], 2), (review["id"], 0)]
    assert page["rating"] == {"product_id": product["id"], "average": 4.0, "count": 2}


async def test_search_sorts_by_rating(client: httpx.AsyncClient, runtime: Runtime) -> None:
    staff = await staff_user(client, runtime)
    await make_channel(client, staff)
    good = await _stocked(client, staff, slug="good-kettle")
    fair = await _stocked(client, staff, slug="fair-kettle")
    unrated = await _stocked(client, staff, slug="plain-kettle")
    await _approved_review(client, staff, good, 5)
    await _approved_review(client, staff, good, 4)
    await _approved_review(client, staff, fair, 2)
    await _approved_review(client, staff, fair, 4)
    # A pending five-star review does not lift the fair kettle.
    pending = await register_and_login(client)
    await delivered_order(client, staff, pending, fair["variants"][0]["id"])
    await client.post(
        f"/api/v1/products/{fair['id']}/reviews",
        headers=pending.headers,
        json={"rating": 5, "title": "Great"},
    )
    found = await client.get("/api/v1/search", params={"q": "kettle", "sort": "rating"})
    assert found.status_code == 200, found.text
    assert [h["slug"] for h in found.json()["items"]] == [
        good["slug"],
        fair["slug"],
        unrated["slug"],
    ]
    page = (await client.get(f"/api/v1/products/{fair['id']}/reviews")).json()
    assert page["rating"]["average"] == 3.0 and page["rating"]["count"] == 2
