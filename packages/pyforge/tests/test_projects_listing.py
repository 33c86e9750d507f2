"""Project listing: pagination (offset and cursor), sorting and full-text search."""

from __future__ import annotations

import httpx
from hypothesis import given
from hypothesis import strategies as st

from forgekit.identity.testing import register_and_login
from forgekit.search import fts5_query, search_terms, tsquery
from pyforge.projects.testing import PROJECTS, new_project


async def _walk(client: httpx.AsyncClient, headers: dict[str, str], **params: object) -> list[str]:
    names: list[str] = []
    cursor = None
    for _ in range(20):
        query = {**params, **({"cursor": cursor} if cursor else {})}
        page = (await client.get(PROJECTS, params=query, headers=headers)).json()
        names += [p["name"] for p in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            return names
    raise AssertionError("cursor never ended")


async def test_pagination_and_sorting(client: httpx.AsyncClient) -> None:
    user = await register_and_login(client)
    names = ["delta", "alpha", "echo", "charlie", "bravo", "golf", "foxtrot"]
    for name in names:
        await new_project(client, user, name=name)
    h = user.headers

    page = (await client.get(PROJECTS, params={"limit": 3, "sort": "name"}, headers=h)).json()
    assert [p["name"] for p in page["items"]] == ["alpha", "bravo", "charlie"]
    assert page["total"] == 7 and page["limit"] == 3 and page["offset"] == 0
    assert page["next_cursor"]
    page2 = (
        await client.get(PROJECTS, params={"limit": 3, "offset": 3, "sort": "name"}, headers=h)
    ).json()
    assert [p["name"] for p in page2["items"]] == ["delta", "echo", "foxtrot"]

    assert await _walk(client, h, limit=3, sort="name") == sorted(names)
    assert await _walk(client, h, limit=2, sort="-name") == sorted(names, reverse=True)
    assert await _walk(client, h, limit=3, sort="created_at") == names
    assert await _walk(client, h, limit=4, sort="-created_at") == names[::-1]
    default = (await client.get(PROJECTS, headers=h)).json()
    assert [p["name"] for p in default["items"]] == names[::-1]

    # A cursor survives an insert ahead of it: no row is skipped or repeated.
    first = (await client.get(PROJECTS, params={"limit": 3, "sort": "name"}, headers=h)).json()
    await new_project(client, user, name="aaa")
    rest = await _walk(client, h, limit=3, sort="name")
    assert "aaa" in rest
    after = (
        await client.get(
            PROJECTS,
            params={"limit": 10, "sort": "name", "cursor": first["next_cursor"]},
            headers=h,
        )
    ).json()
    assert [p["name"] for p in after["items"]] == ["delta", "echo", "foxtrot", "golf"]

    bad = [
        {"limit": 101},
        {"limit": 0},
        {"offset": -1},
        {"sort": "owner_id"},
    ]
    for params in bad:
        assert (await client.get(PROJECTS, params=params, headers=h)).status_code == 422, params
    resp = await client.get(PROJECTS, params={"cursor": "not-a-cursor!"}, headers=h)
    assert resp.status_code == 400 and resp.json()["type"].endswith("invalid-cursor")
    resp = await client.get(
        PROJECTS, params={"sort": "-created_at", "cursor": first["next_cursor"]}, headers=h
    )
    assert resp.status_code == 400


async def test_full_text_search(client: httpx.AsyncClient) -> None:
    user = await register_and_login(client)
    other = await register_and_login(client)
    await new_project(client, user, name="Payment gateway", description="Stripe integration")
    await new_project(client, user, name="Analytics", description="payment dashboards and reports")
    await new_project(client, user, name="Crawler", description="fetches pages")
    await new_project(client, other, name="payment secret", description="not yours")
    h = user.headers

    async def search(q: str, **params: object) -> list[str]:
        resp = await client.get(PROJECTS, params={"q": q, "sort": "name", **params}, headers=h)
        assert resp.status_code == 200, (q, resp.text)
        return [p["name"] for p in resp.json()["items"]]

    assert await search("payment") == ["Analytics", "Payment gateway"]
    assert await search("PAYMENT stripe") == ["Payment gateway"]
    assert await search("pay") == ["Analytics", "Payment gateway"]  # prefix match
    assert await search("dashboards") == ["Analytics"]
    assert await search("nothing-like-this") == []
    page = (await client.get(PROJECTS, params={"q": "payment", "limit": 1}, headers=h)).json()
    assert page["total"] == 2 and len(page["items"]) == 1 and page["next_cursor"]
    # Renames are searchable at once (the index follows updates).
    crawler = (await client.get(PROJECTS, params={"q": "crawler"}, headers=h)).json()["items"][0]
    await client.patch(f"{PROJECTS}/{crawler['id']}", json={"name": "Spider"}, headers=h)
    assert await search("crawler") == []
    assert await search("spider") == ["Spider"]

    # Query syntax of either engine is never interpreted, and never an error.
    tricky = ['foo"', "*", "AND (", "payment\"'", "a:* & !b | c", "NEAR(x y)", "'", "\\", "-", "🐍"]
    for q in tricky:
        await search(q)
    assert await search('payment" OR "crawler') == []
    assert await search("*") == []
    assert await search('"payment"*') == ["Analytics", "Payment gateway"]


def test_search_terms_are_words_only() -> None:
    assert search_terms('Foo"  bar* AND (baz_qux') == ["foo", "bar", "and", "baz", "qux"]
    assert search_terms("*:&|!()'\"") == []
    assert fts5_query(["foo", "bar"]) == '"foo"* "bar"*'
    assert tsquery(["foo", "bar"]) == "'foo':* & 'bar':*"


@given(st.text(max_size=60))
def test_search_queries_are_always_well_formed(text: str) -> None:
    for term in search_terms(text):
        assert term and term.isalnum()
        assert '"' not in fts5_query([term]).strip('"*')
