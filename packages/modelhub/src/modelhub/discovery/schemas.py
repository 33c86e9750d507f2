"""Bodies of the discovery listings."""

from __future__ import annotations

from pydantic import BaseModel

from forgekit.pagination import Page
from modelhub.registry.schemas import ModelRead


class PopularModel(BaseModel):
    """A model with its distinct users of the last 30 days."""

    model: ModelRead
    recent_users: int


class AlsoUsed(BaseModel):
    """A model and how many users of the reference model also used it."""

    model: ModelRead
    users: int


RecentPage = Page[ModelRead]
"""One page of recently published models."""
