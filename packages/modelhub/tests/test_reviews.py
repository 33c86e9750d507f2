"""Usage record and reviews on both backends: only users review, once, editable, answered,
moderated; the rating summary follows every change and drives search's rating sort."""

import asyncio
import hashlib
import uuid

import httpx
from modelhub.usage.models import ModelUsage
from sqlalchemy import select

from forgekit.events.models import AuditLog
from forgekit.identity.testing import TestUser, register_and_login, set_user
from forgekit.runtime import Runtime

MODELS = "/api/v1/models"
PROBLEM = "application/problem+json"


async def _publisher(client: httpx.AsyncClient, runtime: Runtime, name: str | None = None) -> TestUser:
    pub = await register_and_login(client, name)
    await set_user(runtime, pub, role="publisher", is_verified=True)
    return pub


async def _published(client: httpx.AsyncClient, pub: TestUser, name: str,
                     visibility: str = "public") -> str:
    """A published model with a published version 1.0.0; returns its URL."""
    resp = await client.post(MODELS, headers=pub.headers, json={
        "name": name, "title": name.replace("-", " ").title(), "task": "regression",
        "framework": "onnx", "license": "mit", "visibility": visibility})  # fmt: skip
    assert resp.status_code == 201, resp.text
    base = f"{MODELS}/{pub.username}/{name}"
    assert (await client.post(f"{base}/publish", headers=pub.headers)).status_code == 200
    data = f"weights of {name}".encode() * 8
    sha = hashlib.sha256(data).hexdigest()
    upload = (await client.post(f"{base}/uploads", headers=pub.headers, json={
        "filename": "model.bin", "size": len(data), "sha256": sha})).json()  # fmt: skip
    put = await client.put(f"/api/v1/uploads/{upload['id']}/chunks/0", content=data, headers={
        **pub.headers, "content-type": "application/octet-stream", "X-Chunk-SHA256": sha})  # fmt: skip
    assert put.status_code == 204, put.text
    assert (await client.post(f"/api/v1/uploads/{upload['id']}/complete",
                              headers=pub.headers)).status_code == 200  # fmt: skip
    version = await client.post(f"{base}/versions", headers=pub.headers,
                                json={"version": "1.0.0", "upload_id": upload["id"]})  # fmt: skip
    assert version.status_code == 201, version.text
    published = await client.post(f"{base}/versions/1.0.0/publish", headers=pub.headers)
    assert published.status_code == 200, published.text
    return base


async def _use(client: httpx.AsyncClient, user: TestUser, base: str) -> None:
    resp = await client.get(f"{base}/versions/latest/download", headers=user.headers)
    assert resp.status_code == 200, resp.text


async def _usage_rows(runtime: Runtime) -> list[ModelUsage]:
    async with runtime.db.session() as s:
        return list((await s.scalars(select(ModelUsage))).all())


async def test_download_links_record_one_usage_fact_per_consumer(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    pub = await _publisher(client, runtime)
    base = await _published(client, pub, "adder")
    consumer = await register_and_login(client)
    await _use(client, consumer, base)
    await _use(client, consumer, base)
    # The publisher fetching their own model is not a consumer's use.
    await _use(client, pub, base)
    rows = await _usage_rows(runtime)
    assert len(rows) == 1
    row = rows[0]
    assert row.consumer_id == consumer.id and row.source == "download" and row.uses == 2
    assert row.first_used_at <= row.last_used_at
    assert (await client.get(base, headers=consumer.headers)).json()["downloads"] == 3


async def test_concurrent_uses_and_reviews_lose_nothing(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    pub = await _publisher(client, runtime)
    base = await _published(client, pub, "adder")
    consumer = await register_and_login(client)
    # The same consumer's simultaneous downloads: one usage fact, every use counted.
    links = await asyncio.gather(*(client.get(f"{base}/versions/latest/download",
                                              headers=consumer.headers) for _ in range(8)))  # fmt: skip
    assert [r.status_code for r in links] == [200] * 8
    rows = await _usage_rows(runtime)
    assert len(rows) == 1 and rows[0].uses == 8
    # Simultaneous reviews by different users: the rating counts every one of them.
    users = [await register_and_login(client) for _ in range(6)]
    for user in users:
        await _use(client, user, base)
    created = await asyncio.gather(*(
        client.post(f"{base}/reviews", json={"rating": 1 + i % 5, "title": "t"},
                    headers=user.headers) for i, user in enumerate(users)))  # fmt: skip
    assert [r.status_code for r in created] == [201] * 6
    rating = (await client.get(f"{base}/rating", headers=pub.headers)).json()
    assert rating["count"] == 6
    assert rating["histogram"] == {"1": 2, "2": 1, "3": 1, "4": 1, "5": 1}
    assert rating["average"] == round((1 + 2 + 3 + 4 + 5 + 1) / 6, 2)
    # The same user twice at once: one review, one 409.
    twice = await asyncio.gather(*(client.post(f"{base}/reviews", json={"rating": 5, "title": "t"},
                                               headers=consumer.headers) for _ in range(2)))  # fmt: skip
    assert sorted(r.status_code for r in twice) == [201, 409]


async def test_reviews_need_use_are_unique_editable_and_answered(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    pub = await _publisher(client, runtime)
    base = await _published(client, pub, "adder")
    alice, bob = await register_and_login(client), await register_and_login(client)
    review = {"rating": 5, "title": "Adds well", "body": "Exactly one more."}

    refused = await client.post(f"{base}/reviews", json=review, headers=alice.headers)
    assert refused.status_code == 403 and refused.headers["content-type"] == PROBLEM
    assert "used the model" in refused.json()["detail"]
    await _use(client, pub, base)
    own = await client.post(f"{base}/reviews", json=review, headers=pub.headers)
    assert own.status_code == 403 and "own model" in own.json()["detail"]

    await _use(client, alice, base)
    created = await client.post(f"{base}/reviews", json=review, headers=alice.headers)
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["author"] == alice.username and body["rating"] == 5 and body["reply"] is None
    again = await client.post(f"{base}/reviews", json={**review, "rating": 1}, headers=alice.headers)
    assert again.status_code == 409 and again.headers["content-type"] == PROBLEM
    for bad in ({**review, "rating": 0}, {**review, "rating": 6}, {"rating": 3, "title": " "},
                {**review, "extra": 1}):  # fmt: skip
        resp = await client.post(f"{base}/reviews", json=bad, headers=alice.headers)
        assert resp.status_code == 422 and resp.headers["content-type"] == PROBLEM, bad

    review_url = f"{base}/reviews/{body['id']}"
    edited = await client.patch(review_url, json={"rating": 2, "body": "Off by one."},
                                headers=alice.headers)  # fmt: skip
    assert edited.status_code == 200 and edited.json()["rating"] == 2
    assert edited.json()["title"] == "Adds well" and edited.json()["body"] == "Off by one."
    await _use(client, bob, base)
    assert (await client.patch(review_url, json={"rating": 5},
                               headers=bob.headers)).status_code == 403  # fmt: skip
    bobs = await client.post(f"{base}/reviews", json={"rating": 4, "title": "Fine"},
                             headers=bob.headers)  # fmt: skip
    assert bobs.status_code == 201

    rating = (await client.get(f"{base}/rating", headers=bob.headers)).json()
    assert rating == {"average": 3.0, "count": 2,
                      "histogram": {"1": 0, "2": 1, "3": 0, "4": 1, "5": 0}}  # fmt: skip

    # The publisher answers once, and may edit the answer; nobody else answers.
    assert (await client.patch(f"{review_url}/reply", json={"body": "x"},
                               headers=pub.headers)).status_code == 404  # fmt: skip
    answer = await client.post(f"{review_url}/reply", json={"body": "Fixed in 1.0.1."},
                               headers=pub.headers)  # fmt: skip
    assert answer.status_code == 201 and answer.json()["reply"]["body"] == "Fixed in 1.0.1."
    twice = await client.post(f"{review_url}/reply", json={"body": "x"}, headers=pub.headers)
    assert twice.status_code == 409
    fixed = await client.patch(f"{review_url}/reply", json={"body": "Fixed in 1.0.2."},
                               headers=pub.headers)  # fmt: skip
    assert fixed.status_code == 200 and fixed.json()["reply"]["body"] == "Fixed in 1.0.2."
    assert (await client.post(f"{review_url}/reply", json={"body": "me too"},
                              headers=bob.headers)).status_code == 403  # fmt: skip


async def test_listing_sorts_and_walks_with_cursors(client: httpx.AsyncClient, runtime: Runtime) -> None:
    pub = await _publisher(client, runtime)
    base = await _published(client, pub, "adder")
    stars = [3, 5, 1, 4, 2]
    for rating in stars:
        user = await register_and_login(client)
        await _use(client, user, base)
        resp = await client.post(f"{base}/reviews", json={"rating": rating, "title": f"{rating}"},
                                 headers=user.headers)  # fmt: skip
        assert resp.status_code == 201
    for sort, expected in (("rating", [5, 4, 3, 2, 1]), ("recent", stars[::-1])):
        seen, cursor = [], None
        while True:
            params = {"sort": sort, "limit": 2, **({"cursor": cursor} if cursor else {})}
            page = (await client.get(f"{base}/reviews", params=params, headers=pub.headers)).json()
            assert page["total"] == 5 and page["summary"]["count"] == 5
            seen += [r["rating"] for r in page["items"]]
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert seen == expected, sort
    # A cursor of the other order, or a forged one: 400 problem, never a 500.
    first = (await client.get(f"{base}/reviews", params={"sort": "rating", "limit": 2},
                              headers=pub.headers)).json()  # fmt: skip
    for params in ({"sort": "recent", "cursor": first["next_cursor"]}, {"cursor": "garbage"}):
        resp = await client.get(f"{base}/reviews", params=params, headers=pub.headers)
        assert resp.status_code == 400 and resp.headers["content-type"] == PROBLEM
    summary = first["summary"]
    assert summary["average"] == 3.0
    assert summary["histogram"] == {"1": 1, "2": 1, "3": 1, "4": 1, "5": 1}


async def test_moderation_hides_from_others_and_from_the_rating(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    pub = await _publisher(client, runtime)
    base = await _published(client, pub, "adder")
    admin, author, reader = [await register_and_login(client) for _ in range(3)]
    await set_user(runtime, admin, role="admin")
    for user, rating in ((author, 1), (reader, 5)):
        await _use(client, user, base)
        await client.post(f"{base}/reviews", json={"rating": rating, "title": "t"},
                          headers=user.headers)  # fmt: skip
    page = (await client.get(f"{base}/reviews", headers=reader.headers)).json()
    abusive = next(r for r in page["items"] if r["author"] == author.username)
    url = f"{base}/reviews/{abusive['id']}"
    assert page["summary"]["average"] == 3.0

    assert (await client.post(f"{url}/hide", json={"reason": "x"},
                              headers=pub.headers)).status_code == 403  # fmt: skip
    assert (await client.post(f"{url}/hide", json={}, headers=admin.headers)).status_code == 422
    hidden = await client.post(f"{url}/hide", json={"reason": "Insults"}, headers=admin.headers)
    assert hidden.status_code == 200 and hidden.json()["hidden"] is True
    assert (await client.post(f"{url}/hide", json={"reason": "again"},
                              headers=admin.headers)).status_code == 409  # fmt: skip
    # Others no longer see it, nor count it; its author still sees it, with the reason.
    for viewer in (reader, pub):
        listed = (await client.get(f"{base}/reviews", headers=viewer.headers)).json()
        assert [r["author"] for r in listed["items"]] == [reader.username]
        assert listed["total"] == 1 and listed["summary"]["average"] == 5.0
        assert (await client.get(url, headers=viewer.headers)).status_code == 404
    own = await client.get(url, headers=author.headers)
    assert own.status_code == 200 and own.json()["hidden_reason"] == "Insults"
    assert (await client.get(f"{base}/rating", headers=author.headers)).json()["count"] == 1
    assert len((await client.get(f"{base}/reviews", headers=admin.headers)).json()["items"]) == 2
    # The author's edit of a hidden review keeps it hidden and out of the rating.
    await client.patch(url, json={"rating": 2}, headers=author.headers)
    assert (await client.get(f"{base}/rating", headers=reader.headers)).json()["average"] == 5.0

    restored = await client.post(f"{url}/restore", headers=admin.headers)
    assert restored.status_code == 200 and restored.json()["hidden"] is False
    assert (await client.post(f"{url}/restore", headers=admin.headers)).status_code == 409
    rating = (await client.get(f"{base}/rating", headers=reader.headers)).json()
    assert rating["count"] == 2 and rating["average"] == 3.5

    await runtime.events.drain(30)
    async with runtime.db.session() as s:
        events = (await s.execute(select(AuditLog.event_type, AuditLog.payload))).all()
    kinds = {kind for kind, _ in events}
    assert {"review.created", "review.updated", "review.moderated"} <= kinds
    moderated = [p["payload"] for kind, p in events if kind == "review.moderated"]
    assert sorted(p["action"] for p in moderated) == ["hide", "restore"]
    assert {p["reason"] for p in moderated} == {"Insults", None}


async def test_search_sorts_by_the_reviews_rating(client: httpx.AsyncClient, runtime: Runtime) -> None:
    pub = await _publisher(client, runtime)
    bases = {name: await _published(client, pub, name) for name in ("good", "bad", "unrated")}
    written: dict[str, list[tuple[TestUser, str]]] = {}
    for name, stars in (("good", [5, 4]), ("bad", [2, 1])):
        for rating in stars:
            user = await register_and_login(client)
            await _use(client, user, bases[name])
            resp = await client.post(f"{bases[name]}/reviews",
                                     json={"rating": rating, "title": "t"}, headers=user.headers)
            written.setdefault(name, []).append((user, resp.json()["id"]))

    async def by_rating() -> list[str]:
        page = (await client.get("/api/v1/search/models", params={"sort": "rating"},
                                 headers=pub.headers)).json()  # fmt: skip
        return [m["name"] for m in page["items"]]

    assert await by_rating() == ["good", "bad", "unrated"]
    # Edits move the model: "bad" (now 5.0) overtakes "good" (4.5).
    for user, review_id in written["bad"]:
        resp = await client.patch(f"{bases['bad']}/reviews/{review_id}", json={"rating": 5},
                                  headers=user.headers)  # fmt: skip
        assert resp.status_code == 200
    assert await by_rating() == ["bad", "good", "unrated"]


async def test_every_review_endpoint_has_the_four_auth_cases(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    """Anonymous 401, wrong scope or role 403, another's private model 404, valid 2xx."""
    pub = await _publisher(client, runtime)
    base = await _published(client, pub, "adder")
    secret = await _published(client, pub, "secret")
    admin, author, replier = [await register_and_login(client) for _ in range(3)]
    await set_user(runtime, admin, role="admin")
    await _use(client, author, base)
    await _use(client, author, secret)
    review = (await client.post(f"{base}/reviews", json={"rating": 4, "title": "ok"},
                                headers=author.headers)).json()  # fmt: skip
    hidden_review = (await client.post(f"{secret}/reviews", json={"rating": 4, "title": "ok"},
                                       headers=author.headers)).json()  # fmt: skip
    # The model goes private after the review: its reviewer must now get 404s, not 403s.
    await client.patch(secret, json={"visibility": "private"}, headers=pub.headers)
    await _use(client, replier, base)

    read_only = {"X-API-Key": (await _key(client, author, ["model:read"]))}
    no_read = {"X-API-Key": (await _key(client, author, ["review:write"]))}
    rid, sid = review["id"], hidden_review["id"]
    # (method, path under a model, body, who is refused 403, who succeeds, status)
    cases = [
        ("GET", "reviews", None, no_read, author.headers, 200),
        ("GET", "rating", None, no_read, author.headers, 200),
        ("GET", "reviews/{id}", None, no_read, author.headers, 200),
        ("POST", "reviews", {"rating": 3, "title": "t"}, read_only, replier.headers, 201),
        ("PATCH", "reviews/{id}", {"title": "edited"}, read_only, author.headers, 200),
        ("POST", "reviews/{id}/reply", {"body": "thanks"}, read_only, pub.headers, 201),
        ("PATCH", "reviews/{id}/reply", {"body": "thank you"}, read_only, pub.headers, 200),
        ("POST", "reviews/{id}/hide", {"reason": "spam"}, author.headers, admin.headers, 200),
        ("POST", "reviews/{id}/restore", None, author.headers, admin.headers, 200),
    ]
    for method, path, body, refused, valid, ok in cases:
        label = f"{method} {path}"
        url = f"{base}/{path.format(id=rid)}"
        anon = await client.request(method, url, json=body)
        assert anon.status_code == 401 and anon.headers["content-type"] == PROBLEM, label
        wrong = await client.request(method, url, json=body, headers=refused)
        assert wrong.status_code == 403 and wrong.headers["content-type"] == PROBLEM, label
        private_url = f"{secret}/{path.format(id=sid)}"
        # The reviewer lost sight of the private model; a non-admin may not moderate at all,
        # so the IDOR case there is a review id taken from another model.
        if "hide" in path or "restore" in path:
            private = await client.request(method, f"{base}/{path.format(id=sid)}", json=body,
                                           headers=admin.headers)  # fmt: skip
        else:
            private = await client.request(method, private_url, json=body, headers=author.headers)
        assert private.status_code == 404 and private.headers["content-type"] == PROBLEM, label
        good = await client.request(method, url, json=body, headers=valid)
        assert good.status_code == ok, (label, good.text)
    assert uuid.UUID(rid) and uuid.UUID(sid)


async def _key(client: httpx.AsyncClient, user: TestUser, scopes: list[str]) -> str:
    resp = await client.post("/auth/api-keys", json={"name": "k", "scopes": scopes},
                             headers=user.headers)  # fmt: skip
    assert resp.status_code == 201, resp.text
    return str(resp.json()["key"])
