"""Search: full text, typo tolerance, filters, facets, sorts, autocomplete; and the same
results on PostgreSQL and SQLite for the same data."""

import shutil
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from shop.testing import build_search_catalogue as build
from shop.testing import staff_user

from forgekit.identity.testing import FAST_PASSWORD_HASHING, register_and_login
from forgekit.runtime import Runtime
from forgekit.settings import Environment, ForgeSettings
from forgekit.testing.fixtures import TemplateDatabases, _pg_exec, _pg_url
from forgekit.testing.servers import require_real_servers


async def _search(client: httpx.AsyncClient, **params: Any) -> dict[str, Any]:
    resp = await client.get("/api/v1/search", params=params)
    assert resp.status_code == 200, resp.text
    body: dict[str, Any] = resp.json()
    return body


def _slugs(page: dict[str, Any]) -> list[str]:
    return [hit["slug"] for hit in page["items"]]


async def test_words_filters_facets_and_sorts(client: httpx.AsyncClient, runtime: Runtime) -> None:
    await build(client, await staff_user(client, runtime))
    jackets = await _search(client, q="jacket", sort="price_asc")
    assert _slugs(jackets) == ["denim-jacket", "rain-jacket", "down-jacket"]
    assert jackets["total"] == 3 and jackets["approximate"] is False
    assert jackets["items"][1]["from_price"] == {"amount": 12900, "currency": "eur"}
    assert jackets["facets"]["category"] == {"jackets": 3}
    assert jackets["facets"]["attr.colour"] == {"black": 1, "blue": 1, "green": 1, "yellow": 1}
    assert jackets["facets"]["price"] == {"5000-10000": 1, "10000-20000": 2}
    # Prefixes of every word, in name, description or attributes.
    assert _slugs(await _search(client, q="lin sh")) == ["linen-shirt"]
    assert set(_slugs(await _search(client, q="ironhearth"))) == {"skillet", "chef-knife"}
    # A category filter takes its whole sub-tree.
    clothing = await _search(client, category="clothing", sort="price_desc", limit=2)
    assert clothing["total"] == 6 and _slugs(clothing) == ["down-jacket", "rain-jacket"]
    following = await _search(client, category="clothing", sort="price_desc", limit=2, offset=2)
    assert _slugs(following) == ["denim-jacket", "linen-shirt"]
    # Attribute filters match the product's or a variant's attributes; all must hold.
    blue = await _search(client, attr=["colour:blue"], sort="name")
    assert _slugs(blue) == ["denim-jacket", "cotton-tee", "breton-tee"]
    assert _slugs(await _search(client, attr=["colour:blue", "brand:Marin"], sort="name")) == [
        "denim-jacket",
        "breton-tee",
    ]
    # Price filters read the lowest variant price (the cotton tee starts at 19.00).
    cheap = await _search(client, min_price=2000, max_price=5000, sort="price_asc")
    assert _slugs(cheap) == ["breton-tee", "skillet", "linen-shirt"]
    newest = await _search(client, sort="newest", limit=1)
    assert _slugs(newest) == ["table-lamp"]


async def test_typos_autocomplete_and_bad_input(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    staff = await staff_user(client, runtime)
    await build(client, staff)
    typo = await _search(client, q="jaket", sort="name")
    assert typo["approximate"] is True
    assert _slugs(typo) == ["denim-jacket", "down-jacket", "rain-jacket"]
    assert _slugs(await _search(client, q="skilet")) == ["skillet"]
    assert (await _search(client, q="zzzzqqq"))["total"] == 0
    # Query syntax of either engine is only words here.
    for q in ('jacket"', "jack*", "a:b & !c", "NEAR(", "-"):
        assert (await client.get("/api/v1/search", params={"q": q})).status_code == 200
    suggest = (await client.get("/api/v1/search/suggest", params={"q": "li"})).json()
    assert [(s["kind"], s["slug"]) for s in suggest] == [
        ("product", "linen-shirt"),
        ("product", "table-lamp"),
    ]
    kitchen = (await client.get("/api/v1/search/suggest", params={"q": "kit"})).json()
    assert [(s["kind"], s["slug"]) for s in kitchen] == [("category", "kitchen")]
    for params in (
        {"attr": "colour"},
        {"attr": "Bad Key:x"},
        {"sort": "random"},
        {"limit": 0},
        {"min_price": -1},
    ):
        bad = await client.get("/api/v1/search", params=params)
        assert bad.status_code == 422 and bad.headers["content-type"] == "application/problem+json"
    assert (await client.get("/api/v1/search", params={"category": "nope"})).status_code == 404
    # Unpublished and deleted products are never found.
    hidden = (await _search(client, q="skillet"))["items"][0]["id"]
    await client.post(f"/api/v1/products/{hidden}/unpublish", headers=staff.headers)
    assert (await _search(client, q="skillet"))["total"] == 0
    customer = await register_and_login(client)
    assert (await client.get("/api/v1/search", headers=customer.headers)).status_code == 200


# -- the same results on both databases ------------------------------------------------------

QUERIES: list[dict[str, Any]] = [
    {"q": "jacket", "sort": "price_asc"},
    {"q": "jacket", "sort": "name"},
    {"q": "jaket", "sort": "name"},
    {"q": "shirt", "sort": "price_desc"},
    {"q": "marin", "attr": ["colour:blue"], "sort": "name"},
    {"category": "clothing", "sort": "price_asc"},
    {"category": "home", "min_price": 5000, "sort": "name"},
    {"sort": "newest"},
    {"q": "linen"},
    {"q": "cotton shirt"},
    {"q": "chef knif"},
]


@pytest.fixture
async def both_databases(
    template_databases: TemplateDatabases, tmp_path: Path
) -> AsyncIterator[list[str]]:
    """A freshly migrated SQLite file and PostgreSQL database (this test needs both)."""
    servers = require_real_servers()
    sqlite = tmp_path / "parity.db"
    shutil.copyfile(template_databases.sqlite_template(), sqlite)
    admin = servers.postgres_admin_url
    name = f"forge_t_{uuid.uuid4().hex[:12]}"
    template = template_databases.pg_template(admin)
    await _pg_exec(admin, f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    try:
        yield [f"sqlite+aiosqlite:///{sqlite}", _pg_url(admin, name)]
    finally:
        await _pg_exec(admin, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def _answers(app_factory: Any, settings: ForgeSettings) -> list[Any]:
    app = app_factory(settings)
    out: list[Any] = []
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            await build(client, await staff_user(client, app.state.runtime))
            for params in QUERIES:
                page = await _search(client, **params)
                slugs = _slugs(page)
                # Relevance ranks differ by engine (ts_rank, bm25): compare the matches.
                ordered = slugs if params.get("sort") else sorted(slugs)
                out.append((params, ordered, page["total"], page["approximate"], page["facets"]))
            suggest = await client.get("/api/v1/search/suggest", params={"q": "ja"})
            out.append([s["slug"] for s in suggest.json()])
    return out


async def test_postgresql_and_sqlite_give_the_same_results(
    both_databases: list[str], app_factory: Any, tmp_path: Path
) -> None:
    answers = []
    for position, url in enumerate(both_databases):
        settings = ForgeSettings(
            _env_file=None,
            env=Environment.TEST,
            app_name="forgetest",
            log_json=False,
            database_url=url,
            data_dir=tmp_path / f"data{position}",
            **FAST_PASSWORD_HASHING,
        )
        answers.append(await _answers(app_factory, settings))
    sqlite, postgres = answers
    for left, right in zip(sqlite, postgres, strict=True):
        assert left == right
    assert any(entry[3] for entry in sqlite[:-1])  # the typo query went approximate
    assert all(entry[2] > 0 for entry in sqlite[:-1])
