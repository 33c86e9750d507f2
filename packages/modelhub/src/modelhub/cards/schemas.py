"""Bodies of model cards."""

from __future__ import annotations

from pydantic import BaseModel

from modelhub.registry.schemas import ModelRead
from modelhub.reviews.schemas import RatingSummary


class ModelCard(BaseModel):
    """A model's card: the Markdown description, its sanitised HTML, and the rating."""

    slug: str
    title: str
    description: str
    #: Safe to insert into a page: no scripts, event handlers, raw HTML or javascript: URLs.
    description_html: str
    rating: RatingSummary


class ModelDetail(ModelRead):
    """The model page: the model, its card rendered to safe HTML, and its rating."""

    #: Safe to insert into a page (see :class:`ModelCard`).
    description_html: str
    rating: RatingSummary
