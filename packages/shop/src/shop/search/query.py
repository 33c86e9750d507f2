"""The SQL of product search, per database: full-text match, typo match, attribute access and
relevance. Everything else in :mod:`shop.search.service` is the same on both databases.

User input only ever reaches SQL as bound values; attribute keys are bound too on PostgreSQL
and are restricted to ``[a-z0-9_]`` by the API before they are formatted into a SQLite JSON
path.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import ColumnElement, Select, Text, bindparam, cast, func, or_, select, text, true

from forgekit.search import fts5_query, search_terms, similarity, tsquery
from shop.catalogue.models import Product, Variant

#: What an attribute key may be (it is formatted into SQLite JSON paths).
ATTRIBUTE_KEY = re.compile(r"[a-z0-9_]{1,32}")
#: pg_trgm's default similarity threshold, per word, on both databases.
TYPO_THRESHOLD = 0.3

_PG_QUERY = "to_tsquery('simple'::regconfig, :search_query)"
_SQLITE_IDS = (
    "SELECT shop_products_fts.product_id FROM shop_products_fts "
    "WHERE shop_products_fts MATCH :search_query"
)
#: Words of a name as pg_trgm sees them (letters and digits), for the typo match.
_PG_WORDS = "regexp_split_to_table(lower(shop_products.name), '[^[:alnum:]]+')"


def matching(stmt: Select[Any], terms: list[str], dialect: str) -> Select[Any]:
    """``stmt`` restricted to products whose document has every term as a prefix."""
    if dialect == "postgresql":
        match = text(f"shop_products.search_document @@ {_PG_QUERY}")
        return stmt.where(match.bindparams(bindparam("search_query", tsquery(terms))))
    ids = text(f"shop_products.id IN ({_SQLITE_IDS})")
    return stmt.where(ids.bindparams(bindparam("search_query", fts5_query(terms))))


def relevance(terms: list[str], dialect: str) -> ColumnElement[Any]:
    """Best match first: ``ts_rank`` on PostgreSQL, FTS5's ``bm25`` on SQLite."""
    if dialect == "postgresql":
        rank = text(f"ts_rank(shop_products.search_document, {_PG_QUERY}) DESC")
        return rank.bindparams(bindparam("search_query", tsquery(terms)))  # type: ignore[return-value]
    bm25 = text(
        "(SELECT bm25(shop_products_fts) FROM shop_products_fts WHERE shop_products_fts MATCH "
        ":search_query AND shop_products_fts.product_id = shop_products.id) ASC"
    )
    return bm25.bindparams(bindparam("search_query", fts5_query(terms)))  # type: ignore[return-value]


def pg_typo_match(stmt: Select[Any], terms: list[str]) -> Select[Any]:
    """PostgreSQL: every term is pg_trgm-similar to some word of the product's name."""
    for position, term in enumerate(terms):
        name = f"typo_{position}"
        # Only constants and the parameter's name (from an int) are formatted in.
        exists = text(
            f"EXISTS (SELECT 1 FROM {_PG_WORDS} AS w(word) "  # noqa: S608
            f"WHERE similarity(w.word, :{name}) >= {TYPO_THRESHOLD})"
        )
        stmt = stmt.where(exists.bindparams(bindparam(name, term)))
    return stmt


def python_typo_match(name: str, terms: list[str]) -> bool:
    """SQLite's side of :func:`pg_typo_match`, with the same measure (forgekit.search)."""
    words = search_terms(name)
    return all(any(similarity(term, w) >= TYPO_THRESHOLD for w in words) for term in terms)


def attribute(column: Any, key: str, dialect: str) -> ColumnElement[Any]:
    """The value of ``key`` in a JSON attributes column, as text."""
    if dialect == "postgresql":
        return func.jsonb_extract_path_text(column, bindparam(None, key))
    if not ATTRIBUTE_KEY.fullmatch(key):
        raise ValueError(f"invalid attribute key {key!r}")
    return cast(func.json_extract(column, f'$."{key}"'), Text)


def has_attribute(key: str, value: str, dialect: str) -> ColumnElement[bool]:
    """The product or one of its live variants has ``key`` = ``value``."""
    variant = (
        select(Variant.id)
        .where(
            Variant.product_id == Product.id,
            Variant.deleted_at.is_(None),
            attribute(Variant.attributes, key, dialect) == value,
        )
        .exists()
    )
    return or_(attribute(Product.attributes, key, dialect) == value, variant)


def attribute_pairs(column: Any, owner: Any, dialect: str) -> Select[Any]:
    """``(owner id, key, value as text)`` for every attribute of every row."""
    if dialect == "postgresql":
        each = func.jsonb_each_text(column).table_valued("key", "value")
        return select(owner, each.c.key, each.c.value).join(each, true())
    each = func.json_each(column).table_valued("key", "value")
    return select(owner, each.c.key, cast(each.c.value, Text)).join(each, text("1 = 1"))
