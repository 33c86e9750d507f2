"""Storefront search over published products in one channel.

Every word of the query must match the name, description or attributes as a prefix
(PostgreSQL ``to_tsvector('simple')`` with a GIN index; SQLite FTS5). When nothing matches,
products whose name has, for every query word, a word at pg_trgm similarity >= 0.3 are returned
instead (pg_trgm's ``similarity()`` on PostgreSQL, the same measure in Python on SQLite) and
the page says ``approximate``. Facets count every match, not only the page. Both databases give
the same matches and, for every sort but relevance, the same order.
"""

from __future__ import annotations

import uuid
from collections import Counter
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from forgekit.errors import NotFound
from forgekit.search import search_terms
from shop.catalogue.models import Category, Channel, Product, Variant, VariantPrice
from shop.catalogue.repository import CategoryRepository
from shop.catalogue.schemas import Money
from shop.inventory.repository import in_stock
from shop.reviews.service import ratings
from shop.search import query
from shop.search.schemas import (
    PRICE_BUCKETS,
    SearchFilters,
    SearchHit,
    SearchPage,
    SearchSort,
    Suggestion,
)

#: The typo fallback on SQLite ranks at most this many candidates per search.
TYPO_CANDIDATES = 5000
#: Products sort after every priced one when they have no price in the channel.
_UNPRICED = 2**62


def _from_price(channel: Channel) -> Any:
    """Per product: its lowest live variant price in ``channel``."""
    return (
        select(
            Variant.product_id.label("product_id"), func.min(VariantPrice.amount).label("amount")
        )
        .join(VariantPrice, VariantPrice.variant_id == Variant.id)
        .where(Variant.deleted_at.is_(None), VariantPrice.channel_id == channel.id)
        .group_by(Variant.product_id)
        .subquery("from_price")
    )


def _price_bucket(amount: int | None) -> str:
    if amount is None:
        return "unpriced"
    low = 0
    for high in PRICE_BUCKETS:
        if amount < high:
            return f"{low}-{high}"
        low = high
    return f"{low}+"


class SearchService:
    """The storefront's search and autocomplete."""

    async def search(
        self,
        session: AsyncSession,
        channel: Channel,
        q: str,
        filters: SearchFilters,
        *,
        sort: SearchSort | None,
        limit: int,
        offset: int,
    ) -> SearchPage:
        """One page of published products matching ``q`` and ``filters``."""
        dialect = session.get_bind().dialect.name
        terms = search_terms(q)
        price = _from_price(channel)
        base = await self._filtered(session, channel, filters, price, dialect)
        stmt, approximate = base, False
        if terms:
            stmt = query.matching(base, terms, dialect)
            if not await _exists(session, stmt):
                stmt, approximate = await self._typo(session, base, terms, dialect), True
        matches = list(
            (
                await session.execute(
                    stmt.with_only_columns(Product.id, Product.category_id, price.c.amount)
                )
            ).all()
        )
        order = sort or (SearchSort.RELEVANCE if terms else SearchSort.NEWEST)
        if order is SearchSort.RATING:
            ordered = _by_rating(stmt)
        else:
            ordered = stmt.order_by(*_order(order, terms, price, dialect, approximate))
        rows = (
            await session.execute(
                ordered.with_only_columns(Product, price.c.amount).offset(offset).limit(limit)
            )
        ).all()
        return SearchPage(
            items=[_hit(p, amount, channel) for p, amount in rows],
            total=len(matches),
            limit=limit,
            offset=offset,
            approximate=approximate,
            facets=await _facets(session, matches, dialect),
        )

    async def _filtered(
        self,
        session: AsyncSession,
        channel: Channel,
        filters: SearchFilters,
        price: Any,
        dialect: str,
    ) -> Select[Any]:
        stmt = (
            select(Product)
            .outerjoin(price, price.c.product_id == Product.id)
            .where(Product.deleted_at.is_(None), Product.published_at.is_not(None))
        )
        if filters.category:
            found = await session.scalar(
                select(Category.id).where(Category.slug == filters.category)
            )
            if found is None:
                raise NotFound(f"Unknown category {filters.category!r}.")
            stmt = stmt.where(
                Product.category_id.in_(await CategoryRepository(session).subtree_ids(found))
            )
        for key, value in sorted(filters.attributes.items()):
            stmt = stmt.where(query.has_attribute(key, value, dialect))
        if filters.min_price is not None:
            stmt = stmt.where(price.c.amount >= filters.min_price)
        if filters.max_price is not None:
            stmt = stmt.where(price.c.amount <= filters.max_price)
        if filters.in_stock:
            stmt = stmt.where(in_stock())
        return stmt

    async def _typo(
        self, session: AsyncSession, base: Select[Any], terms: list[str], dialect: str
    ) -> Select[Any]:
        if dialect == "postgresql":
            return query.pg_typo_match(base, terms)
        candidates = (
            await session.execute(
                base.with_only_columns(Product.id, Product.name).limit(TYPO_CANDIDATES)
            )
        ).all()
        hits = [pid for pid, name in candidates if query.python_typo_match(name, terms)]
        return base.where(Product.id.in_(hits) if hits else Product.id.is_(None))

    async def suggest(self, session: AsyncSession, q: str, limit: int) -> list[Suggestion]:
        """Categories, then published products, whose names start with the typed words."""
        terms = search_terms(q)
        if not terms:
            return []
        dialect = session.get_bind().dialect.name
        prefix = terms[-1]
        cats = (
            (await session.execute(select(Category).order_by(Category.name, Category.id)))
            .scalars()
            .all()
        )
        out = [
            Suggestion(kind="category", slug=c.slug, name=c.name)
            for c in cats
            if any(w.startswith(prefix) for w in search_terms(c.name))
        ][:limit]
        visible = select(Product).where(
            Product.deleted_at.is_(None), Product.published_at.is_not(None)
        )
        found = (
            (
                await session.execute(
                    query.matching(visible, terms, dialect)
                    .order_by(_by_name(dialect), Product.id)
                    .limit(limit * 4)
                )
            )
            .scalars()
            .all()
        )
        for product in found:
            # Autocomplete completes names: the typed words must begin words of the name.
            words = search_terms(product.name)
            if all(any(w.startswith(t) for w in words) for t in terms) and len(out) < limit:
                out.append(Suggestion(kind="product", slug=product.slug, name=product.name))
        return out


async def _exists(session: AsyncSession, stmt: Select[Any]) -> bool:
    return bool(await session.scalar(select(stmt.with_only_columns(Product.id).exists())))


def _by_name(dialect: str) -> Any:
    # Byte order on both: SQLite's default; PostgreSQL's "C" collation (not the locale's).
    return Product.name.collate("C") if dialect == "postgresql" else Product.name


def _order(
    order: SearchSort, terms: list[str], price: Any, dialect: str, approximate: bool
) -> list[Any]:
    tie = [Product.id]
    amount = func.coalesce(price.c.amount, _UNPRICED)
    if order is SearchSort.PRICE_ASC:
        return [amount.asc(), *tie]
    if order is SearchSort.PRICE_DESC:
        return [func.coalesce(price.c.amount, -1).desc(), *tie]
    if order is SearchSort.NEWEST:
        return [Product.published_at.desc(), *tie]
    if order is SearchSort.RELEVANCE and terms and not approximate:
        return [query.relevance(terms, dialect), *tie]
    return [_by_name(dialect), *tie]


def _by_rating(stmt: Select[Any]) -> Select[Any]:
    """Order by the approved reviews' average, then their count; unrated products last."""
    rated = ratings()
    return stmt.outerjoin(rated, rated.c.product_id == Product.id).order_by(
        func.coalesce(rated.c.average, -1.0).desc(),
        func.coalesce(rated.c.count, 0).desc(),
        Product.id,
    )


def _hit(product: Product, amount: int | None, channel: Channel) -> SearchHit:
    return SearchHit(
        id=product.id,
        slug=product.slug,
        name=product.name,
        category_id=product.category_id,
        attributes=product.attributes,
        from_price=Money(amount=amount, currency=channel.currency) if amount is not None else None,
    )


async def _facets(
    session: AsyncSession, matches: list[Any], dialect: str
) -> dict[str, dict[str, int]]:
    """Counts of matching products per category, price bucket and attribute value."""
    ids = [row[0] for row in matches]
    rows = (await session.execute(select(Category.id, Category.slug))).all()
    slugs: dict[uuid.UUID, str] = {cid: slug for cid, slug in rows}
    facets: dict[str, dict[str, int]] = {
        "category": dict(Counter(slugs[c] for _, c, _ in matches if c in slugs)),
        "price": dict(Counter(_price_bucket(a) for _, _, a in matches)),
    }
    if ids:
        facets.update(await _attribute_facets(session, ids, dialect))
    return facets


async def _attribute_facets(
    session: AsyncSession, ids: list[uuid.UUID], dialect: str
) -> dict[str, dict[str, int]]:
    """``attr.<key>``: products per value, counting a product once per value (its own
    attributes and its live variants' together)."""
    pairs: set[tuple[uuid.UUID, str, str]] = set()
    for stmt in (
        query.attribute_pairs(Product.attributes, Product.id, dialect)
        .select_from(Product)
        .where(Product.id.in_(ids)),
        query.attribute_pairs(Variant.attributes, Variant.product_id, dialect)
        .select_from(Variant)
        .where(Variant.product_id.in_(ids), Variant.deleted_at.is_(None)),
    ):
        pairs.update((pid, str(k), str(v)) for pid, k, v in (await session.execute(stmt)).all())
    facets: dict[str, dict[str, int]] = {}
    for (key, value), count in sorted(Counter((k, v) for _, k, v in pairs).items()):
        facets.setdefault(f"attr.{key}", {})[value] = count
    return facets


search = SearchService()
