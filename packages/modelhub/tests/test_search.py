"""Marketplace search on both databases: the same matches, filters and facets for the same data."""

import httpx
import pytest

from forgekit.identity.testing import TestUser, register_and_login, set_user
from forgekit.runtime import Runtime

SEARCH = "/api/v1/search/models"

CATALOGUE = [
    # name, title, description, task, framework, license, tags, price per 1k calls
    ("sentiment-small", "Sentiment classifier (small)", "Fast English sentiment analysis.",
     "text-classification", "onnx", "apache-2.0", ["nlp", "english"], "0.10"),
    ("sentiment-large", "Sentiment classifier (large)", "Accurate multilingual sentiment.",
     "text-classification", "onnx", "mit", ["nlp", "multilingual"], "0.80"),
    ("fish-species", "Fish species detector", "Classifies salmon, trout and cod in photos.",
     "image-classification", "onnx", "apache-2.0", ["vision", "aquaculture"], None),
    ("whisper-tiny", "Speech recogniser", "Transcribes English speech; sentiment not included.",
     "speech-recognition", "pytorch", "mit", ["audio", "english"], "2.00"),
]


async def _catalogue(client: httpx.AsyncClient, runtime: Runtime) -> TestUser:
    pub = await register_and_login(client, "acme")
    await set_user(runtime, pub, role="publisher", is_verified=True)
    for name, title, desc, task, fw, lic, tags, price in CATALOGUE:
        pricing = {"price_per_1k_calls": price} if price else {"free_calls_per_month": 1000}
        resp = await client.post("/api/v1/models", headers=pub.headers, json={
            "name": name, "title": title, "description": desc, "task": task, "framework": fw,
            "license": lic, "tags": tags, "pricing": pricing, "visibility": "public"})
        assert resp.status_code == 201, resp.text
        assert (await client.post(f"/api/v1/models/acme/{name}/publish",
                                  headers=pub.headers)).status_code == 200
    # Neither a draft nor an unlisted model is ever found.
    await client.post("/api/v1/models", headers=pub.headers, json={
        "name": "sentiment-draft", "title": "Sentiment draft", "task": "text-classification",
        "framework": "onnx", "license": "mit", "visibility": "public"})
    await client.post("/api/v1/models", headers=pub.headers, json={
        "name": "sentiment-hidden", "title": "Sentiment hidden", "task": "text-classification",
        "framework": "onnx", "license": "mit", "visibility": "unlisted"})
    await client.post("/api/v1/models/acme/sentiment-hidden/publish", headers=pub.headers)
    return pub


def _names(page: dict) -> set[str]:
    return {m["name"] for m in page["items"]}


@pytest.mark.parametrize(("params", "expected"), [
    ({"q": "sentiment"}, {"sentiment-small", "sentiment-large", "whisper-tiny"}),
    ({"q": "sentiment english"}, {"sentiment-small", "whisper-tiny"}),
    ({"q": "senti"}, {"sentiment-small", "sentiment-large", "whisper-tiny"}),  # prefix
    ({"q": "salmon"}, {"fish-species"}),
    ({"q": "aquaculture"}, {"fish-species"}),  # a tag
    ({"q": "sentiment", "license": "mit"}, {"sentiment-large", "whisper-tiny"}),
    ({"q": "sentiment", "task": "text-classification"}, {"sentiment-small", "sentiment-large"}),
    ({"tag": ["english", "nlp"]}, {"sentiment-small"}),
    ({"max_price": "0.5"}, {"sentiment-small", "fish-species"}),  # free counts as 0
    ({"min_price": "0.5", "max_price": "1"}, {"sentiment-large"}),
    ({"publisher": "nobody"}, set()),
    ({"q": 'foo" AND (*'}, set()),  # query syntax is never interpreted
])
async def test_same_matches_on_both_databases(
    client: httpx.AsyncClient, runtime: Runtime, params: dict, expected: set[str]
) -> None:
    pub = await _catalogue(client, runtime)
    page = (await client.get(SEARCH, params=params, headers=pub.headers)).json()
    assert _names(page) == expected and page["total"] == len(expected)
    assert page["approximate"] is False or not expected


async def test_typos_find_the_closest_titles(client: httpx.AsyncClient, runtime: Runtime) -> None:
    pub = await _catalogue(client, runtime)
    page = (await client.get(SEARCH, params={"q": "sentimnet clasifier"}, headers=pub.headers)).json()
    assert page["approximate"] is True
    assert [m["name"] for m in page["items"]][:2] in (["sentiment-large", "sentiment-small"],
                                                      ["sentiment-small", "sentiment-large"])
    assert "fish-species" not in _names(page)


async def test_facets_sorts_and_cursor(client: httpx.AsyncClient, runtime: Runtime) -> None:
    pub = await _catalogue(client, runtime)
    page = (await client.get(SEARCH, params={"q": "sentiment"}, headers=pub.headers)).json()
    assert page["facets"]["task"] == {"text-classification": 2, "speech-recognition": 1}
    assert page["facets"]["license"] == {"apache-2.0": 1, "mit": 2}
    assert page["facets"]["tags"]["english"] == 2 and page["facets"]["tags"]["nlp"] == 2
    recent = (await client.get(SEARCH, params={"sort": "recent"}, headers=pub.headers)).json()
    assert [m["name"] for m in recent["items"]] == [c[0] for c in reversed(CATALOGUE)]
    seen, cursor = [], None
    while True:
        params = {"sort": "recent", "limit": 3, **({"cursor": cursor} if cursor else {})}
        chunk = (await client.get(SEARCH, params=params, headers=pub.headers)).json()
        seen += [m["name"] for m in chunk["items"]]
        cursor = chunk["next_cursor"]
        if not cursor:
            break
    assert seen == [c[0] for c in reversed(CATALOGUE)]
    # A cursor of another search is refused, not misapplied.
    first = (await client.get(SEARCH, params={"sort": "recent", "limit": 1},
                              headers=pub.headers)).json()
    wrong = await client.get(SEARCH, params={"q": "fish", "cursor": first["next_cursor"]},
                             headers=pub.headers)
    assert wrong.status_code == 400 and wrong.json()["type"].endswith("/invalid-cursor")
