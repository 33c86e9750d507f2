"""Observations, labels, counts and jobs in and out."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

#: A species name as the API accepts it in labels and filters.
SPECIES_PATTERN = r"^[A-Za-z0-9_][A-Za-z0-9_ .-]{0,63}$"


class SpeciesScore(BaseModel):
    """One species of a prediction's top-k."""

    species: str
    probability: float


class ObservationRead(BaseModel):
    """One image of a tank and the model's prediction (``unsure``: review it)."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    farm_id: uuid.UUID
    tank_id: uuid.UUID
    job_id: uuid.UUID | None
    filename: str | None
    sha256: str
    content_type: str
    width: int
    height: int
    observed_at: datetime
    species: str
    confidence: float
    unsure: bool
    top_k: list[SpeciesScore]
    model_version: str
    label: str | None
    labelled_by: uuid.UUID | None
    labelled_at: datetime | None
    image_url: str | None = None
    thumbnail_url: str | None = None


class JobRead(BaseModel):
    """A batch job and its progress."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    farm_id: uuid.UUID
    tank_id: uuid.UUID
    status: str
    total: int
    processed: int
    failed: int
    error: str | None
    created_at: datetime
    finished_at: datetime | None
    progress: float = 0.0


class UploadResult(BaseModel):
    """An upload's outcome: its observations now, or the job that will make them."""

    observations: list[ObservationRead]
    job: JobRead | None
    #: Said on every prediction: the shipped default model knows invented species only.
    model_note: str | None = None


class LabelIn(BaseModel):
    """``POST .../observations/{id}/label``: confirm the prediction or give the right species."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    species: str = Field(pattern=SPECIES_PATTERN)


class CorrectionRead(BaseModel):
    """One confirmation or correction: who, when, what."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    observation_id: uuid.UUID
    action: Literal["confirm", "correct"]
    predicted: str
    species: str
    created_by: uuid.UUID | None
    created_at: datetime


class CountPoint(BaseModel):
    """How many observations of a species a tank had in one period (chart data)."""

    period: str
    species: str
    count: int


class SpeciesCounts(BaseModel):
    """A tank's species counts over time; the species is the label where one was given."""

    tank_id: uuid.UUID
    bucket: Literal["day", "week", "month"]
    points: list[CountPoint]


class ModelInfo(BaseModel):
    """The served model: its classes, version, threshold and what data it learnt from."""

    version: str
    classes: list[str]
    unsure_threshold: float
    synthetic: bool
    note: str
    card: dict[str, Any]
