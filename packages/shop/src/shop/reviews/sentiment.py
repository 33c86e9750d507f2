"""Review sentiment: one review scored in the worker's delivery transaction, many scored in
chunks (``shop sentiment score`` and its worker job), and a product's reviews summed up.

A stored score always describes the review's current text: scoring locks the review row
(``SELECT ... FOR UPDATE`` on PostgreSQL; SQLite serialises writers anyway) and an edit of the
text clears the score in the edit's own transaction, so whichever runs second sees the other's
result. The score is skipped when the active model already scored the review, which makes a
redelivered or repeated request a no-op.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Literal

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from forgekit.db.base import utcnow
from forgekit.db.engine import Database
from forgekit.errors import NotFound, ServiceUnavailable
from shop.catalogue.models import Product
from shop.ml.sentiment.aspects import ASPECTS
from shop.ml.sentiment.data import LABELS
from shop.ml.sentiment.scoring import TextSentiment, analyse
from shop.reviews.models import Review
from shop.reviews.schemas import ProductSentiment, ReviewStatus, SentimentShares

if TYPE_CHECKING:
    from shop.ml.serving import MlServing

log = logging.getLogger("shop.reviews.sentiment")

#: ``unscored``: reviews without a score; ``all``: every review, scored again.
Scope = Literal["unscored", "all"]
#: Reviews per transaction in batch scoring (one model call each).
CHUNK = 200


class Outcome(StrEnum):
    """What :func:`score_review` did."""

    SCORED = "scored"
    #: The active model had already scored this text (a redelivery, or the batch got there).
    CURRENT = "current"
    MISSING = "missing"
    NO_MODEL = "no_model"


class NoSentimentModel(ServiceUnavailable):
    """Batch scoring asked for while no sentiment model is promoted."""

    def __init__(self) -> None:
        super().__init__("No sentiment model is trained yet: run `shop train sentiment`.")


def apply(review: Review, result: TextSentiment, version: int, now: datetime) -> None:
    """Store a score on the review."""
    review.sentiment_label = result.label
    review.sentiment_probability = result.probability
    review.sentiment_aspects = result.aspects
    review.language = result.language
    review.sentiment_model_version = version
    review.sentiment_scored_at = now


def clear(review: Review) -> None:
    """Forget the score (the text it described changed)."""
    review.sentiment_label = review.sentiment_probability = review.sentiment_aspects = None
    review.language = review.sentiment_model_version = review.sentiment_scored_at = None


async def score_review(session: AsyncSession, serving: MlServing, review_id: uuid.UUID) -> Outcome:
    """Score one review with the active model in the caller's transaction."""
    await serving.refresh(session)
    model = serving.sentiment
    if model is None:
        log.warning(
            "review %s left unscored: no sentiment model is promoted yet (train one with "
            "`shop train sentiment`, then run `shop sentiment score --unscored`)", review_id,
        )  # fmt: skip
        return Outcome.NO_MODEL
    review = await session.scalar(select(Review).where(Review.id == review_id).with_for_update())
    if review is None:
        return Outcome.MISSING
    if review.sentiment_scored_at is not None and review.sentiment_model_version == model.version:
        return Outcome.CURRENT
    (result,) = await analyse(model, [review.text])
    apply(review, result, model.version, utcnow())
    return Outcome.SCORED


def _scope(stmt: Select[Review], scope: Scope) -> Select[Review]:
    return stmt.where(Review.sentiment_scored_at.is_(None)) if scope == "unscored" else stmt


async def count(session: AsyncSession, scope: Scope) -> int:
    """How many reviews ``scope`` covers now."""
    stmt = select(func.count()).select_from(Review)
    if scope == "unscored":
        stmt = stmt.where(Review.sentiment_scored_at.is_(None))
    return int(await session.scalar(stmt) or 0)


async def score_batch(
    db: Database,
    serving: MlServing,
    scope: Scope,
    *,
    chunk: int = CHUNK,
    progress: Callable[[int], None] | None = None,
) -> tuple[int, int]:
    """Score the reviews of ``scope`` in id order, ``chunk`` per transaction, with the model
    active at the start; returns (reviews scored, model version). ``progress`` hears each
    chunk's size. Reviews written meanwhile are the consumer's."""
    async with db.session() as session:
        await serving.refresh(session, force=True)
    model = serving.sentiment
    if model is None:
        raise NoSentimentModel()
    scored, last = 0, None
    while True:
        async with db.transaction() as session:
            stmt = _scope(select(Review), scope).order_by(Review.id).limit(chunk)
            if last is not None:
                stmt = stmt.where(Review.id > last)
            rows = list((await session.scalars(stmt.with_for_update())).all())
            if not rows:
                break
            results = await analyse(model, [r.text for r in rows])
            now = utcnow()
            for review, result in zip(rows, results, strict=True):
                apply(review, result, model.version, now)
            last = rows[-1].id
        scored += len(rows)
        if progress is not None:
            progress(len(rows))
    return scored, model.version


def _shares(labels: list[str]) -> SentimentShares:
    n = len(labels)
    share = {k: (round(labels.count(k) / n, 4) if n else None) for k in LABELS}
    return SentimentShares(count=n, **share)


async def product_sentiment(session: AsyncSession, product_id: uuid.UUID) -> ProductSentiment:
    """Label shares over the product's approved reviews, overall and per aspect."""
    product = await session.get(Product, product_id)
    if product is None or product.deleted_at is not None:
        raise NotFound("Product not found.")
    rows = (
        await session.execute(
            select(Review.sentiment_label, Review.sentiment_aspects).where(
                Review.product_id == product_id, Review.status == ReviewStatus.APPROVED
            )
        )
    ).all()
    scored = [(label, aspects or {}) for label, aspects in rows if label is not None]
    per_aspect = {
        name: _shares([str(a[name]["label"]) for _, a in scored if name in a]) for name in ASPECTS
    }
    return ProductSentiment(
        product_id=product_id, reviews=len(rows), scored=len(scored),
        overall=_shares([label for label, _ in scored]), aspects=per_aspect,
    )  # fmt: skip
