"""HTTP endpoints of the rules catalogue: ``/api/v1/rules``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from forgekit.identity.deps import CurrentPrincipal
from pyforge.rules import service
from pyforge.rules.schemas import RuleRead

router = APIRouter(prefix="/api/v1/rules", tags=["rules"])


@router.get("", response_model=list[RuleRead])
async def list_rules(
    _principal: CurrentPrincipal,
    category: Annotated[str | None, Query(max_length=32)] = None,
    q: Annotated[str | None, Query(max_length=200)] = None,
) -> list[RuleRead]:
    """Every rule PyForge knows, optionally filtered by category or a search text."""
    return service.list_rules(category, q)


@router.get("/{rule_id}", response_model=RuleRead)
async def get_rule(
    _principal: CurrentPrincipal, rule_id: Annotated[str, Path(max_length=64)]
) -> RuleRead:
    """A rule's documentation: what it detects, why it matters and how to fix it."""
    return service.get_rule(rule_id)
