"""Bodies of the marketplace search."""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum

from pydantic import BaseModel

from modelhub.registry.schemas import ModelRead


class SearchSort(StrEnum):
    """Result order: relevance (the default with a query), recency, popularity, rating."""

    RELEVANCE = "relevance"
    RECENT = "recent"
    POPULAR = "popular"
    #: Best average rating of visible reviews first (unrated models last), then most reviews.
    RATING = "rating"


class SearchFilters(BaseModel):
    """What narrows a search besides its words."""

    task: str | None = None
    framework: str | None = None
    license: str | None = None
    tags: list[str] = []
    publisher: str | None = None
    min_price: Decimal | None = None
    max_price: Decimal | None = None


class SearchPage(BaseModel):
    """One page of results with facet counts over every match."""

    items: list[ModelRead]
    total: int
    limit: int
    next_cursor: str | None
    #: Counts per value of task, framework, license and tags among all matches.
    facets: dict[str, dict[str, int]]
    #: True when no model matched every word and these are the closest titles/names instead.
    approximate: bool
