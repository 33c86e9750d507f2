"""Search requests and responses."""

from __future__ import annotations

import uuid
from enum import StrEnum

from pydantic import BaseModel, Field

from shop.catalogue.schemas import Money


class SearchSort(StrEnum):
    """Result orders; ties are broken by product id on both databases."""

    RELEVANCE = "relevance"
    PRICE_ASC = "price_asc"
    PRICE_DESC = "price_desc"
    NEWEST = "newest"
    NAME = "name"
    #: Best average of approved reviews first; unrated products last.
    RATING = "rating"


#: Upper bounds (exclusive, minor units) of the price facet's buckets; the last is open.
PRICE_BUCKETS = (2_000, 5_000, 10_000, 20_000)


class SearchFilters(BaseModel):
    """What narrows a search (every filter must hold)."""

    category: str | None = None
    #: ``{"colour": "blue"}``: the product or one of its variants has each value.
    attributes: dict[str, str] = Field(default_factory=dict)
    min_price: int | None = Field(default=None, ge=0)
    max_price: int | None = Field(default=None, ge=0)
    #: Only products with a variant in stock (on hand minus reserved > 0).
    in_stock: bool = False


class SearchHit(BaseModel):
    """A product in a result page, with its lowest variant price in the channel."""

    id: uuid.UUID
    slug: str
    name: str
    category_id: uuid.UUID | None
    attributes: dict[str, object]
    from_price: Money | None


class SearchPage(BaseModel):
    """One page of results with facet counts over every match (not just the page)."""

    items: list[SearchHit]
    total: int
    limit: int
    offset: int
    #: True when nothing matched exactly and these are typo-tolerant (trigram) matches.
    approximate: bool
    facets: dict[str, dict[str, int]]


class Suggestion(BaseModel):
    """An autocomplete entry."""

    kind: str
    slug: str
    name: str
