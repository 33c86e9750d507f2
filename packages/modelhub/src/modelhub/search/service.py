"""Marketplace search: full text with filters, facets, sorts and typo tolerance.

Only published public models are searchable (unlisted ones are reachable by their slug only).
Every word of the query must match name, title, description or tags as a prefix (PostgreSQL
``to_tsvector('simple')`` with a GIN index, SQLite FTS5); when nothing matches, models whose
title or name is trigram-similar to the query (pg_trgm's measure, threshold 0.3) are returned
instead and the page says so. Both databases give the same matches for the same data.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Float,
    Numeric,
    Select,
    bindparam,
    cast,
    func,
    select,
    text,
)
from sqlalchemy.ext.asyncio import AsyncSession

from forgekit.db.base import utcnow
from forgekit.pagination import InvalidCursor, decode_cursor, encode_cursor
from forgekit.search import fts5_query, search_terms, similarity, tsquery
from modelhub.registry.models import MarketModel, ModelStatus, Visibility
from modelhub.registry.service import to_read
from modelhub.reviews.models import ModelRating
from modelhub.search.schemas import SearchFilters, SearchPage, SearchSort
from modelhub.usage.repository import POPULAR_WINDOW, recent_users

#: pg_trgm's default similarity threshold (``%``), used on both databases.
TYPO_THRESHOLD = 0.3
#: The typo fallback ranks at most this many candidates per search.
TYPO_CANDIDATES = 5000

# The stored tsvector column that modelhub_search_0001 adds and indexes (not in the model:
# PostgreSQL generates it).
_PG_DOCUMENT = "market_models.search_document"
_PG_QUERY = "to_tsquery('simple'::regconfig, :search_query)"
_SQLITE_IDS = (
    "SELECT market_models_fts.model_id FROM market_models_fts "
    "WHERE market_models_fts MATCH :search_query"
)


def _visible() -> Select[MarketModel]:
    return select(MarketModel).where(
        MarketModel.deleted_at.is_(None),
        MarketModel.status == ModelStatus.PUBLISHED.value,
        MarketModel.visibility == Visibility.PUBLIC.value,
    )


def _price(dialect: str) -> ColumnElement[Any]:
    # A model without a per-call price is free: 0.
    if dialect == "postgresql":
        raw = func.jsonb_extract_path_text(MarketModel.pricing, "price_per_1k_calls")
        return func.coalesce(cast(raw, Numeric), 0)
    return func.coalesce(cast(func.json_extract(MarketModel.pricing, "$.price_per_1k_calls"),
                              Float), 0)  # fmt: skip


def _has_tag(tag: str, position: int, dialect: str) -> ColumnElement[bool]:
    name = f"tag_{position}"  # one bound parameter per tag filter
    if dialect == "postgresql":
        # jsonb containment (the list is bound as JSON, not as a string).
        return MarketModel.tags.op("@>")(bindparam(name, [tag], type_=MarketModel.tags.type))
    # Only the parameter's name is formatted in (an int); the tag itself is a bound value.
    sql = "EXISTS (SELECT 1 FROM json_each(market_models.tags) WHERE json_each.value = :"
    exists = text(sql + name + ")")
    return exists.bindparams(bindparam(name, tag))  # type: ignore[return-value]


def _filtered(stmt: Select[Any], filters: SearchFilters, dialect: str) -> Select[Any]:
    for column, value in ((MarketModel.task, filters.task),
                          (MarketModel.framework, filters.framework),
                          (MarketModel.license, filters.license),
                          (MarketModel.namespace, filters.publisher)):  # fmt: skip
        if value:
            stmt = stmt.where(column == value)
    for position, tag in enumerate(filters.tags):
        stmt = stmt.where(_has_tag(tag, position, dialect))
    price = _price(dialect)
    if filters.min_price is not None:
        stmt = stmt.where(price >= float(filters.min_price))
    if filters.max_price is not None:
        stmt = stmt.where(price <= float(filters.max_price))
    return stmt


def _matching(stmt: Select[Any], terms: list[str], dialect: str) -> Select[Any]:
    if dialect == "postgresql":
        match = text(f"{_PG_DOCUMENT} @@ {_PG_QUERY}")
        return stmt.where(match.bindparams(bindparam("search_query", tsquery(terms))))
    ids = text(f"market_models.id IN ({_SQLITE_IDS})")
    return stmt.where(ids.bindparams(bindparam("search_query", fts5_query(terms))))


def _relevance(terms: list[str], dialect: str) -> ColumnElement[Any]:
    if dialect == "postgresql":
        rank = text(f"ts_rank({_PG_DOCUMENT}, {_PG_QUERY}) DESC")
        return rank.bindparams(bindparam("search_query", tsquery(terms)))  # type: ignore[return-value]
    bm25 = text(
        "(SELECT bm25(market_models_fts) FROM market_models_fts WHERE market_models_fts MATCH "
        ":search_query AND market_models_fts.model_id = market_models.id) ASC"
    )
    return bm25.bindparams(bindparam("search_query", fts5_query(terms)))  # type: ignore[return-value]


def _signature(q: str, filters: SearchFilters, sort: SearchSort) -> str:
    blob = json.dumps([q, filters.model_dump(mode="json"), sort.value], sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


async def _facets(session: AsyncSession, stmt: Select[Any]) -> dict[str, dict[str, int]]:
    ids = select(stmt.with_only_columns(MarketModel.id).subquery().c.id)
    facets: dict[str, dict[str, int]] = {}
    for name, column in (("task", MarketModel.task), ("framework", MarketModel.framework),
                         ("license", MarketModel.license)):  # fmt: skip
        rows = await session.execute(
            select(column, func.count()).where(MarketModel.id.in_(ids)).group_by(column)
        )
        facets[name] = {str(value): int(count) for value, count in rows.all()}
    # Tags are a JSON list: unnested by the database, counted there.
    if session.get_bind().dialect.name == "postgresql":
        tag = func.jsonb_array_elements_text(MarketModel.tags).table_valued("value")
        value = tag.c.value
        tags = select(value, func.count()).select_from(MarketModel).join(tag, text("true"))
    else:
        each = func.json_each(MarketModel.tags).table_valued("value")
        value = each.c.value
        tags = select(value, func.count()).select_from(MarketModel).join(each, text("1 = 1"))
    rows = await session.execute(
        tags.where(MarketModel.id.in_(ids)).group_by(value)
        .order_by(func.count().desc(), value).limit(50)
    )  # fmt: skip
    facets["tags"] = {str(v): int(c) for v, c in rows.all()}
    return facets


class SearchService:
    """The marketplace's search."""

    async def search(
        self,
        session: AsyncSession,
        q: str,
        filters: SearchFilters,
        *,
        sort: SearchSort | None,
        limit: int,
        cursor: str | None,
    ) -> SearchPage:
        """One page of published public models matching ``q`` and ``filters``."""
        dialect = session.get_bind().dialect.name
        terms = search_terms(q)
        order = sort or (SearchSort.RELEVANCE if terms else SearchSort.RECENT)
        signature = _signature(" ".join(terms), filters, order)
        offset = _offset(cursor, signature)
        base = _filtered(_visible(), filters, dialect)
        stmt = _matching(base, terms, dialect) if terms else base
        total = int(await session.scalar(stmt.with_only_columns(func.count())) or 0)
        if total == 0 and terms:
            return await self._approximate(session, base, q, limit, offset, signature)
        stmt, leading = _sort_join(order, stmt)
        stmt = stmt.order_by(*leading, *_order(order, terms, dialect))
        rows = list((await session.execute(stmt.offset(offset).limit(limit))).scalars().all())
        return SearchPage(
            items=[to_read(m) for m in rows], total=total, limit=limit,
            next_cursor=_next(offset, limit, total, signature),
            facets=await _facets(session, stmt.order_by(None)), approximate=False,
        )  # fmt: skip

    async def _approximate(
        self,
        session: AsyncSession,
        base: Select[Any],
        q: str,
        limit: int,
        offset: int,
        signature: str,
    ) -> SearchPage:
        # Ranked here on both databases (the same pg_trgm measure), so that a typo finds the
        # same models everywhere; candidates are the filtered searchable models.
        rows = (await session.execute(
            base.with_only_columns(MarketModel.id, MarketModel.title, MarketModel.name)
            .limit(TYPO_CANDIDATES)
        )).all()  # fmt: skip
        scored = sorted(
            ((max(similarity(q, title), similarity(q, name)), str(mid), mid)
             for mid, title, name in rows),
            key=lambda item: (-item[0], item[1]),
        )  # fmt: skip
        hits = [mid for score, _, mid in scored if score >= TYPO_THRESHOLD]
        page_ids = hits[offset : offset + limit]
        models = {m.id: m for m in (await session.execute(
            select(MarketModel).where(MarketModel.id.in_(page_ids)))).scalars().all()}  # fmt: skip
        matched = base.where(MarketModel.id.in_(hits) if hits else MarketModel.id.is_(None))
        return SearchPage(
            items=[to_read(models[i]) for i in page_ids], total=len(hits), limit=limit,
            next_cursor=_next(offset, limit, len(hits), signature),
            facets=await _facets(session, matched), approximate=True,
        )  # fmt: skip


def _sort_join(order: SearchSort, stmt: Select[Any]) -> tuple[Select[Any], list[Any]]:
    """``stmt`` joined to what ``order`` reads besides the model row, and the leading sort
    keys. Each join adds at most one row per model, so the matches are unchanged."""
    if order is SearchSort.RATING:
        # The rating row the reviews keep current: -1 puts models nobody has rated after
        # every rated one on both databases.
        joined = stmt.outerjoin(ModelRating, ModelRating.model_id == MarketModel.id)
        return joined, [func.coalesce(ModelRating.average, -1).desc(),
                        func.coalesce(ModelRating.count, 0).desc()]  # fmt: skip
    if order is SearchSort.POPULAR:
        # Distinct users in the last 30 days (the usage record), then download links.
        users = recent_users(utcnow() - POPULAR_WINDOW)
        joined = stmt.outerjoin(users, users.c.model_id == MarketModel.id)
        return joined, [func.coalesce(users.c.users, 0).desc(), MarketModel.downloads.desc()]
    return stmt, []


def _order(order: SearchSort, terms: list[str], dialect: str) -> list[Any]:
    tie = [MarketModel.created_at.desc(), MarketModel.id.desc()]
    if order is SearchSort.RELEVANCE and terms:
        return [_relevance(terms, dialect), *tie]
    return tie


def _offset(cursor: str | None, signature: str) -> int:
    if cursor is None:
        return 0
    data = decode_cursor(cursor)
    if data.get("s") != signature:
        raise InvalidCursor("The cursor belongs to another search; start again.")
    offset = data.get("o")
    if not isinstance(offset, int) or offset < 0:
        raise InvalidCursor("The cursor is not valid.")
    return offset


def _next(offset: int, limit: int, total: int, signature: str) -> str | None:
    return encode_cursor({"o": offset + limit, "s": signature}) if offset + limit < total else None


search = SearchService()
