"""The ML services' event types."""

from __future__ import annotations

from typing import Final

from pydantic import BaseModel

from forgekit.events.types import EventType


class TrainRequested(BaseModel):
    """``shop.ml.train.requested``: the worker trains one model kind."""

    kind: str
    reason: str = "manual"


TRAIN_REQUESTED: Final = EventType("shop.ml.train.requested", TrainRequested)
