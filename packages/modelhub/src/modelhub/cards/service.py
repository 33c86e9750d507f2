"""Model cards: a model's Markdown description rendered to safe HTML.

Two layers, so that neither alone has to be perfect: markdown-it-py renders with raw HTML
disabled (a ``<script>`` in the Markdown comes out as text) and refuses ``javascript:``-style
link targets; nh3 (the Ammonia sanitiser) then keeps only an allow-list of tags and
attributes, only http(s)/mailto URLs, and marks every link ``noopener noreferrer nofollow``.
"""

from __future__ import annotations

from functools import lru_cache

import nh3
from markdown_it import MarkdownIt
from sqlalchemy.ext.asyncio import AsyncSession

from modelhub.cards.schemas import ModelCard, ModelDetail
from modelhub.registry.models import MarketModel
from modelhub.registry.service import to_read
from modelhub.reviews.service import reviews

#: What a model card may contain: CommonMark plus GFM tables and strikethrough.
ALLOWED_TAGS = frozenset({
    "a", "blockquote", "br", "code", "del", "em", "h1", "h2", "h3", "h4", "h5", "h6", "hr",
    "img", "li", "ol", "p", "pre", "s", "strong", "table", "tbody", "td", "th", "thead", "tr",
    "ul",
})  # fmt: skip
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title"},
    # Fenced code keeps its language class (``language-python``) for client highlighting.
    "code": {"class"},
    "th": {"style"},
    "td": {"style"},
    "ol": {"start"},
}
URL_SCHEMES = frozenset({"http", "https", "mailto"})

_MARKDOWN = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable(
    ["table", "strikethrough"]
)


@lru_cache(maxsize=512)
def render_markdown(text: str) -> str:
    """Safe HTML for the Markdown ``text`` (cached: a card is read far more than written)."""
    html = _MARKDOWN.render(text)
    return nh3.clean(
        html,
        tags=set(ALLOWED_TAGS),
        attributes={tag: set(attrs) for tag, attrs in ALLOWED_ATTRIBUTES.items()},
        url_schemes=set(URL_SCHEMES),
        link_rel="noopener noreferrer nofollow",
        filter_style_properties={"text-align"},
    )


class CardService:
    """The model page's card."""

    async def card(self, session: AsyncSession, model: MarketModel) -> ModelCard:
        """The model's card: its description as Markdown and as safe HTML, and its rating."""
        return ModelCard(
            slug=model.slug, title=model.title, description=model.description,
            description_html=render_markdown(model.description),
            rating=await reviews.summary(session, model),
        )  # fmt: skip

    async def detail(self, session: AsyncSession, model: MarketModel) -> ModelDetail:
        """The model page: the model with ``description_html`` and its rating."""
        return ModelDetail(**to_read(model).model_dump(),
                           description_html=render_markdown(model.description),
                           rating=await reviews.summary(session, model))  # fmt: skip


cards = CardService()
