"""``GET /api/v1/search/models``: the marketplace's search."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from forgekit.deps import SessionDep
from forgekit.identity.deps import require_scopes
from forgekit.identity.principal import Principal
from modelhub.permissions import Permission
from modelhub.search.schemas import SearchFilters, SearchPage, SearchSort
from modelhub.search.service import search

router = APIRouter(prefix="/api/v1/search", tags=["search"])

Reader = Annotated[Principal, Depends(require_scopes(Permission.MODEL_READ))]
Word = Annotated[str | None, Query(max_length=64)]


@router.get("/models")
async def search_models(
    principal: Reader,
    session: SessionDep,
    q: Annotated[str, Query(max_length=200, description="Words to find (all must match)")] = "",
    task: Word = None,
    framework: Word = None,
    license: Word = None,
    tag: Annotated[list[str] | None, Query(max_length=10)] = None,
    publisher: Word = None,
    min_price: Annotated[Decimal | None, Query(ge=0, description="Per 1,000 calls")] = None,
    max_price: Annotated[Decimal | None, Query(ge=0, description="Per 1,000 calls")] = None,
    sort: SearchSort | None = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
) -> SearchPage:
    """Published public models matching the words and filters, with facet counts; a typo
    falls back to the closest titles (``approximate: true``)."""
    filters = SearchFilters(
        task=task, framework=framework, license=license, tags=tag or [], publisher=publisher,
        min_price=min_price, max_price=max_price,
    )  # fmt: skip
    return await search.search(session, q, filters, sort=sort, limit=limit, cursor=cursor)
