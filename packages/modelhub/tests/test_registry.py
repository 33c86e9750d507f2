"""The model registry over HTTP, on both backends: roles, visibility, lifecycle, events."""

import httpx
from sqlalchemy import select

from forgekit.events.models import AuditLog
from forgekit.identity.testing import TestUser, create_api_key, register_and_login, set_user
from forgekit.runtime import Runtime

MODELS = "/api/v1/models"
DRAFT = {"name": "sentiment-small", "title": "Sentiment (small)", "task": "text-classification",
         "framework": "onnx", "license": "apache-2.0", "tags": ["nlp", "english", "nlp"],
         "pricing": {"free_calls_per_month": 1000, "price_per_1k_calls": "0.50"},
         "visibility": "public"}


async def _publisher(client: httpx.AsyncClient, runtime: Runtime, verified: bool = True) -> TestUser:
    user = await register_and_login(client)
    await set_user(runtime, user, role="publisher", is_verified=verified)
    return user


async def test_self_registered_users_are_consumers_who_cannot_publish(
    client: httpx.AsyncClient,
) -> None:
    consumer = await register_and_login(client)
    me = await client.get("/auth/me", headers=consumer.headers)
    assert me.json()["role"] == "consumer"
    resp = await client.post(MODELS, json=DRAFT, headers=consumer.headers)
    assert resp.status_code == 403
    assert resp.headers["content-type"] == "application/problem+json"
    assert (await client.get(MODELS, headers=consumer.headers)).status_code == 200


async def test_draft_publish_and_visibility(client: httpx.AsyncClient, runtime: Runtime) -> None:
    pub = await _publisher(client, runtime)
    consumer = await register_and_login(client)
    created = await client.post(MODELS, json=DRAFT, headers=pub.headers)
    assert created.status_code == 201, created.text
    body = created.json()
    slug = f"{pub.username}/sentiment-small"
    assert body["slug"] == slug and body["status"] == "draft"
    assert body["tags"] == ["english", "nlp"]
    assert body["pricing"]["price_per_1k_calls"] == "0.50"
    # Same slug again: 409.
    assert (await client.post(MODELS, json=DRAFT, headers=pub.headers)).status_code == 409
    # A draft does not exist for others, and is not listed.
    assert (await client.get(f"{MODELS}/{slug}", headers=consumer.headers)).status_code == 404
    listed = (await client.get(MODELS, headers=consumer.headers)).json()
    assert listed["total"] == 0
    mine = (await client.get(MODELS, params={"mine": "true"}, headers=pub.headers)).json()
    assert [m["slug"] for m in mine["items"]] == [slug]

    published = await client.post(f"{MODELS}/{slug}/publish", headers=pub.headers)
    assert published.status_code == 200 and published.json()["status"] == "published"
    assert (await client.post(f"{MODELS}/{slug}/publish", headers=pub.headers)).status_code == 409
    seen = await client.get(f"{MODELS}/{slug}", headers=consumer.headers)
    assert seen.status_code == 200 and seen.json()["title"] == "Sentiment (small)"
    listed = (await client.get(MODELS, headers=consumer.headers)).json()
    assert [m["slug"] for m in listed["items"]] == [slug]
    # Others may see it but not change it.
    other_pub = await _publisher(client, runtime)
    patch = await client.patch(f"{MODELS}/{slug}", json={"title": "x"}, headers=other_pub.headers)
    assert patch.status_code == 403
    # Unlisted: reachable by slug, not listed.
    resp = await client.patch(f"{MODELS}/{slug}", json={"visibility": "unlisted"}, headers=pub.headers)
    assert resp.status_code == 200 and resp.json()["visibility"] == "unlisted"
    assert (await client.get(f"{MODELS}/{slug}", headers=consumer.headers)).status_code == 200
    assert (await client.get(MODELS, headers=consumer.headers)).json()["total"] == 0
    # Private: gone for others (404, never 403).
    await client.patch(f"{MODELS}/{slug}", json={"visibility": "private"}, headers=pub.headers)
    assert (await client.get(f"{MODELS}/{slug}", headers=consumer.headers)).status_code == 404
    assert (await client.patch(f"{MODELS}/{slug}", json={"title": "x"},
                               headers=other_pub.headers)).status_code == 404
    assert (await client.post(f"{MODELS}/{slug}/deprecate", headers=pub.headers)).json()["status"] == "deprecated"
    assert (await client.delete(f"{MODELS}/{slug}", headers=pub.headers)).status_code == 204
    assert (await client.get(f"{MODELS}/{slug}", headers=pub.headers)).status_code == 404
    await runtime.events.drain(30)
    async with runtime.db.session() as s:
        audited = set((await s.scalars(select(AuditLog.event_type))).all())
    assert {"model.created", "model.published", "model.updated", "model.deprecated",
            "model.deleted"} <= audited


async def test_publishing_needs_a_verified_email(client: httpx.AsyncClient, runtime: Runtime) -> None:
    pub = await _publisher(client, runtime, verified=False)
    assert (await client.post(MODELS, json=DRAFT, headers=pub.headers)).status_code == 201
    resp = await client.post(f"{MODELS}/{pub.username}/sentiment-small/publish", headers=pub.headers)
    assert resp.status_code == 403
    assert "Verify your e-mail" in resp.json()["detail"]


async def test_bad_input_is_a_problem_not_a_500(client: httpx.AsyncClient, runtime: Runtime) -> None:
    pub = await _publisher(client, runtime)
    for bad in ({**DRAFT, "name": "Bad Name!"}, {**DRAFT, "pricing": {"price_per_1k_calls": -1}},
                {**DRAFT, "visibility": "secret"}, {**DRAFT, "tags": ["x"] * 21}, {"name": "x"}):
        resp = await client.post(MODELS, json=bad, headers=pub.headers)
        assert resp.status_code == 422, (bad, resp.text)
        assert resp.headers["content-type"] == "application/problem+json"
    resp = await client.get(MODELS, params={"cursor": "not-a-cursor"}, headers=pub.headers)
    assert resp.status_code == 400 and resp.json()["type"].endswith("/invalid-cursor")


async def test_cursor_pages_walk_every_model_once(client: httpx.AsyncClient, runtime: Runtime) -> None:
    pub = await _publisher(client, runtime)
    for i in range(7):
        await client.post(MODELS, json={**DRAFT, "name": f"m{i}"}, headers=pub.headers)
    seen, cursor = [], None
    while True:
        params = {"mine": "true", "limit": 3, **({"cursor": cursor} if cursor else {})}
        page = (await client.get(MODELS, params=params, headers=pub.headers)).json()
        assert page["total"] == 7
        seen += [m["name"] for m in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert sorted(seen) == [f"m{i}" for i in range(7)] and len(seen) == 7


async def test_api_keys_carry_the_marketplace_marker_and_scopes(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    pub = await _publisher(client, runtime)
    key = (await create_api_key(client, pub, ["model:read"]))["key"]
    assert key.startswith("aimpk_")
    assert (await client.get(MODELS, headers={"X-API-Key": key})).status_code == 200
    resp = await client.post(MODELS, json=DRAFT, headers={"X-API-Key": key})
    assert resp.status_code == 403  # the key lacks model:write
