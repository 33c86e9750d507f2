"""Bodies of model cards."""

from __future__ import annotations

from pydantic import BaseModel

from modelhub.reviews.schemas import RatingSummary


class ModelCard(BaseModel):
    """A model's card: the Markdown description, its sanitised HTML, and the rating."""

    slug: str
    title: str
    description: str
    #: Safe to insert into a page: no scripts, event handlers, raw HTML or javascript: URLs.
    description_html: str
    rating: RatingSummary
