"""Storefront search over HTTP (public)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from forgekit.deps import SessionDep
from forgekit.errors import Unprocessable
from shop.catalogue.schemas import ChannelCode
from shop.catalogue.service import channel_by_code, channels
from shop.search.query import ATTRIBUTE_KEY
from shop.search.schemas import SearchFilters, SearchPage, SearchSort, Suggestion
from shop.search.service import search

router = APIRouter(prefix="/api/v1/search", tags=["search"])


def _attributes(pairs: list[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition(":")
        if not sep or not ATTRIBUTE_KEY.fullmatch(key) or not value:
            raise Unprocessable(f"attr must be key:value with a key of [a-z0-9_], not {pair!r}.")
        out[key] = value
    return out


@router.get("")
async def search_products(
    session: SessionDep,
    q: Annotated[str, Query(max_length=200)] = "",
    channel: ChannelCode | None = None,
    category: Annotated[str | None, Query(max_length=100)] = None,
    attr: Annotated[list[str], Query(max_length=10, description="key:value")] = [],  # noqa: B006
    min_price: Annotated[int | None, Query(ge=0)] = None,
    max_price: Annotated[int | None, Query(ge=0)] = None,
    in_stock: bool = False,
    sort: SearchSort | None = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    offset: Annotated[int, Query(ge=0, le=10_000)] = 0,
) -> SearchPage:
    """Published products matching words and filters, with facet counts (public)."""
    filters = SearchFilters(
        category=category,
        attributes=_attributes(attr),
        min_price=min_price,
        max_price=max_price,
        in_stock=in_stock,
    )
    found = await channel_by_code(session, channel) if channel else await channels.default(session)
    return await search.search(session, found, q, filters, sort=sort, limit=limit, offset=offset)


@router.get("/suggest")
async def suggest(
    session: SessionDep,
    q: Annotated[str, Query(max_length=100)],
    limit: Annotated[int, Query(ge=1, le=20)] = 8,
) -> list[Suggestion]:
    """Autocomplete: categories and products whose names start with the typed words."""
    return await search.suggest(session, q, limit)
