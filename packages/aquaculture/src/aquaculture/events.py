"""Aquaculture's event types and their payloads."""

from __future__ import annotations

import uuid
from typing import Final

from pydantic import BaseModel

from forgekit.events.types import EventType


class BatchSubmitted(BaseModel):
    """``aquaculture.batch.submitted``: a large batch waits for the worker role."""

    job_id: uuid.UUID
    farm_id: uuid.UUID
    tank_id: uuid.UUID
    images: int


class BatchFinished(BatchSubmitted):
    """``aquaculture.batch.finished``: the job is done (or failed)."""

    status: str
    processed: int
    failed: int


class ObservationCorrected(BaseModel):
    """``aquaculture.observation.labelled``: an operator confirmed or corrected a prediction."""

    observation_id: uuid.UUID
    farm_id: uuid.UUID
    species: str
    action: str
    by: uuid.UUID


class ModelChanged(BaseModel):
    """``aquaculture.model.changed``: a promotion or rollback made ``version`` live."""

    version: str
    previous: str


BATCH_SUBMITTED: Final = EventType("aquaculture.batch.submitted", BatchSubmitted)
BATCH_FINISHED: Final = EventType("aquaculture.batch.finished", BatchFinished)
OBSERVATION_LABELLED: Final = EventType("aquaculture.observation.labelled", ObservationCorrected)
MODEL_CHANGED: Final = EventType("aquaculture.model.changed", ModelChanged)
