"""The ML services' event types."""

from __future__ import annotations

from typing import Final, Literal

from pydantic import BaseModel

from forgekit.events.types import EventType


class TrainRequested(BaseModel):
    """``shop.ml.train.requested``: the worker trains one model kind."""

    kind: str
    reason: str = "manual"


TRAIN_REQUESTED: Final = EventType("shop.ml.train.requested", TrainRequested)


class SentimentScoreRequested(BaseModel):
    """``shop.ml.sentiment.score_requested``: the worker scores reviews in batch."""

    #: ``unscored`` (reviews without a score) or ``all`` (every review, again).
    scope: Literal["unscored", "all"] = "unscored"


SENTIMENT_SCORE_REQUESTED: Final = EventType(
    "shop.ml.sentiment.score_requested", SentimentScoreRequested
)
