"""Discovery on both backends over a hand-built usage graph whose rankings are known:
popular (recent users, then downloads), recently published, and "people who used this also
used" (co-usage counted in SQL, public published models only)."""

import uuid
from datetime import timedelta

import httpx
from modelhub.registry.models import MarketModel
from modelhub.usage.models import ModelUsage
from sqlalchemy import update

from forgekit.db.base import utcnow
from forgekit.identity.testing import TestUser, register_and_login, set_user
from forgekit.runtime import Runtime

MODELS = "/api/v1/models"
PROBLEM = "application/problem+json"

# Who used what (the last-used age in days where it is not today).
GRAPH = {
    "u1": ["a", "b", "c"],
    "u2": ["a", "b"],
    "u3": ["a", "b", "d"],
    "u4": ["a", "c", "private", "unlisted"],
    "u5": ["b", ("d", 40)],
}
DOWNLOADS = {"a": 0, "b": 10, "c": 0, "d": 0, "e": 5, "f": 0}


class Market:
    """The publishers, consumers and model ids of the graph."""

    def __init__(self, pub: TestUser, other: TestUser, users: dict[str, TestUser],
                 ids: dict[str, uuid.UUID]) -> None:  # fmt: skip
        self.pub, self.other, self.users, self.ids = pub, other, users, ids

    def url(self, name: str) -> str:
        owner = self.other if name == "private" else self.pub
        return f"{MODELS}/{owner.username}/{name}"


async def _model(client: httpx.AsyncClient, owner: TestUser, name: str, visibility: str) -> uuid.UUID:
    resp = await client.post(MODELS, headers=owner.headers, json={
        "name": name, "title": f"Model {name}", "task": "regression", "framework": "onnx",
        "license": "mit", "visibility": visibility})  # fmt: skip
    assert resp.status_code == 201, resp.text
    published = await client.post(f"{MODELS}/{owner.username}/{name}/publish", headers=owner.headers)
    assert published.status_code == 200
    return uuid.UUID(resp.json()["id"])


async def _market(client: httpx.AsyncClient, runtime: Runtime) -> Market:
    pub, other = await register_and_login(client), await register_and_login(client)
    for publisher in (pub, other):
        await set_user(runtime, publisher, role="publisher", is_verified=True)
    ids = {name: await _model(client, pub, name, "public") for name in "abcdef"}
    ids["unlisted"] = await _model(client, pub, "unlisted", "unlisted")
    ids["private"] = await _model(client, other, "private", "private")
    # A draft never shows, whatever its usage.
    draft = await client.post(MODELS, headers=pub.headers, json={
        "name": "draft", "title": "Draft", "task": "regression", "framework": "onnx",
        "license": "mit", "visibility": "public"})  # fmt: skip
    ids["draft"] = uuid.UUID(draft.json()["id"])
    users = {name: await register_and_login(client) for name in GRAPH}
    now = utcnow()
    async with runtime.db.transaction() as session:
        for position, name in enumerate("abcdef"):
            # Published one hour apart, "a" first: the recent order is f, e, d, c, b, a.
            await session.execute(update(MarketModel).where(MarketModel.id == ids[name]).values(
                downloads=DOWNLOADS[name], published_at=now - timedelta(hours=10 - position)))
        for user, used in GRAPH.items():
            for entry in [*used, "draft"] if user == "u1" else used:
                model, age = (entry, 0) if isinstance(entry, str) else entry
                at = now - timedelta(days=age)
                session.add(ModelUsage(consumer_id=users[user].id, model_id=ids[model],
                                       source="download", last_source="download", uses=1,
                                       first_used_at=at, last_used_at=at))  # fmt: skip
    return Market(pub, other, users, ids)


def _names(items: list[dict]) -> list[str]:
    return [item["model"]["name"] if "model" in item else item["name"] for item in items]


async def test_popular_ranks_recent_users_then_downloads(client: httpx.AsyncClient, runtime: Runtime) -> None:
    market = await _market(client, runtime)
    viewer = market.users["u1"]
    resp = await client.get(f"{MODELS}/popular", headers=viewer.headers)
    assert resp.status_code == 200, resp.text
    body = resp.json()
    # a and b both have 4 users this month (u5's use of d is 40 days old); b has more downloads.
    assert _names(body) == ["b", "a", "c", "d", "e", "f"]
    assert [item["recent_users"] for item in body] == [4, 4, 2, 1, 0, 0]
    # Search's popular sort reads the same usage record.
    search = await client.get("/api/v1/search/models", params={"sort": "popular"},
                              headers=viewer.headers)  # fmt: skip
    assert [m["name"] for m in search.json()["items"]] == ["b", "a", "c", "d", "e", "f"]
    top = await client.get(f"{MODELS}/popular", params={"limit": 2}, headers=viewer.headers)
    assert _names(top.json()) == ["b", "a"]
    assert (await client.get(f"{MODELS}/popular", params={"limit": 0},
                             headers=viewer.headers)).status_code == 422  # fmt: skip


async def test_recent_lists_the_newest_publications_in_cursor_pages(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    market = await _market(client, runtime)
    viewer = market.users["u2"]
    seen, cursor = [], None
    while True:
        params = {"limit": 4, **({"cursor": cursor} if cursor else {})}
        page = (await client.get(f"{MODELS}/recent", params=params, headers=viewer.headers)).json()
        assert page["total"] == 6
        seen += _names(page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == ["f", "e", "d", "c", "b", "a"]
    bad = await client.get(f"{MODELS}/recent", params={"cursor": "nope"}, headers=viewer.headers)
    assert bad.status_code == 400 and bad.headers["content-type"] == PROBLEM


async def test_also_used_counts_shared_users_of_public_models(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    market = await _market(client, runtime)
    viewer = market.users["u5"]

    async def also(name: str) -> list[tuple[str, int]]:
        resp = await client.get(f"{market.url(name)}/also-used", headers=viewer.headers)
        assert resp.status_code == 200, resp.text
        return [(item["model"]["name"], item["users"]) for item in resp.json()]

    # Users of a: u1..u4. b is shared by u1-u3, c by u1 and u4, d by u3; u4's private and
    # unlisted models and u1's draft are never recommended, nor a itself.
    assert await also("a") == [("b", 3), ("c", 2), ("d", 1)]
    # Users of d: u3 and u5 (co-usage is not limited to the popularity window).
    assert await also("d") == [("b", 2), ("a", 1)]
    assert await also("e") == []
    limited = await client.get(f"{market.url('a')}/also-used", params={"limit": 1},
                               headers=viewer.headers)  # fmt: skip
    assert [item["model"]["name"] for item in limited.json()] == ["b"]
    # An unlisted model has recommendations (reachable by slug), it just is not one.
    assert await also("unlisted") == [("a", 1), ("c", 1)]


async def test_every_discovery_endpoint_has_the_four_auth_cases(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    """Anonymous 401, a key without ``model:read`` 403, another's private model 404 (or
    never listed), valid 200."""
    market = await _market(client, runtime)
    viewer = market.users["u4"]  # has even used the private model: still no access
    resp = await client.post("/auth/api-keys", json={"name": "k", "scopes": ["review:write"]},
                             headers=viewer.headers)  # fmt: skip
    no_read = {"X-API-Key": resp.json()["key"]}
    listings = [f"{MODELS}/popular", f"{MODELS}/recent"]
    per_model = ["also-used", "card"]
    urls = listings + [f"{market.url('a')}/{path}" for path in per_model]
    for url in urls:
        anon = await client.get(url)
        assert anon.status_code == 401 and anon.headers["content-type"] == PROBLEM, url
        wrong = await client.get(url, headers=no_read)
        assert wrong.status_code == 403 and wrong.headers["content-type"] == PROBLEM, url
        assert (await client.get(url, headers=viewer.headers)).status_code == 200, url
    for path in per_model:
        hidden = await client.get(f"{market.url('private')}/{path}", headers=viewer.headers)
        assert hidden.status_code == 404 and hidden.headers["content-type"] == PROBLEM, path
        own = await client.get(f"{market.url('private')}/{path}", headers=market.other.headers)
        assert own.status_code == 200, path
    for url in listings:
        body = (await client.get(url, headers=viewer.headers)).json()
        names = _names(body if isinstance(body, list) else body["items"])
        assert not {"private", "unlisted", "draft"} & set(names), url
        # Not even for the private model's owner: discovery is the public marketplace.
        body = (await client.get(url, headers=market.other.headers)).json()
        assert "private" not in _names(body if isinstance(body, list) else body["items"])
