"""Pydantic in/out of the ML endpoints."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, computed_field

from shop.ml.fraud.features import FEATURE_NAMES


class Recommendations(BaseModel):
    """Top-k product ids and how they were chosen."""

    items: list[str]
    #: ``als`` (the model), ``popular_in_category`` (fallback for unknown customers).
    source: str
    bought_together: list[str] = Field(default_factory=list)
    model_version: int
    synthetic: bool


class OrderIn(BaseModel):
    """An order at checkout, before capture."""

    order_id: str = Field(min_length=1, max_length=64)
    # A customer reference keys the online feature store: no ':' (a key separator) and no
    # control characters (schemathesis found a 500 here).
    customer: str = Field(min_length=1, max_length=64, pattern=r"^[^:\x00-\x1f\x7f]+$")
    amount_minor: int = Field(ge=0)
    currency: str = Field(pattern=r"^[A-Z]{3}$")
    placed_at: dt.datetime
    device: str = Field(min_length=1, max_length=128)
    address: str = Field(min_length=1, max_length=128)
    bill_country: str = Field(pattern=r"^[A-Z]{2}$")
    ship_country: str = Field(pattern=r"^[A-Z]{2}$")
    ip_country: str = Field(pattern=r"^[A-Z]{2}$")
    account_created: dt.datetime


class RuleHitOut(BaseModel):
    """A rule that fired, explained."""

    rule: str
    value: float
    threshold: float
    weight: float
    explanation: str


class FraudCaseOut(BaseModel):
    """A scored order: verdict, parts, hits and its place in the staff queue."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    order_ref: str
    customer_ref: str
    amount_minor: int
    currency: str
    score: float
    model_score: float
    rules_score: float
    decision: str
    hits: list[dict[str, Any]]
    model_version: int | None
    status: str
    created_at: dt.datetime
    resolved_at: dt.datetime | None

    @computed_field  # type: ignore[prop-decorator]
    @property
    def order_url(self) -> str | None:
        """The scored order in the API (None: a case scored for an outside order id)."""
        try:
            return f"/api/v1/orders/{uuid.UUID(self.order_ref)}"
        except ValueError:
            return None


class Feedback(BaseModel):
    """Staff's verdict on a case (kept for retraining)."""

    label: Literal["confirmed_fraud", "false_positive"]


class RuleIn(BaseModel):
    """A fraud rule as staff edit it."""

    feature: Literal[FEATURE_NAMES]  # type: ignore[valid-type]
    op: Literal[">", ">=", "<", "<=", "=="]
    threshold: float
    weight: float = Field(ge=0.0, le=1.0)
    message: str = Field(min_length=1, max_length=500)
    enabled: bool = True


class RuleOut(RuleIn):
    """A stored rule."""

    name: str


class SentimentIn(BaseModel):
    """A review to analyse."""

    text: str = Field(min_length=1, max_length=10_000)


class SentimentOut(BaseModel):
    """Overall label, probabilities, aspects and language."""

    label: str
    probability: float
    probabilities: dict[str, float]
    aspects: dict[str, dict[str, float | str]]
    language: str
    language_probability: float
    model_version: int


class ForecastQuery(BaseModel):
    """How far ahead, and the stock to turn into a reorder suggestion."""

    horizon: int = Field(default=28, ge=1, le=28)
    on_hand: float | None = Field(default=None, ge=0)
    lead_time: int = Field(default=7, ge=1, le=28)


class ForecastOut(BaseModel):
    """Daily forecast of one product at one warehouse."""

    product: str
    warehouse: str
    model: str
    start: dt.date
    level: float
    point: list[float]
    lower: list[float]
    upper: list[float]
    mase: dict[str, float]
    coverage: float
    reorder: dict[str, float] | None
    model_version: int
    synthetic: bool


class VersionOut(BaseModel):
    """A registered model version."""

    model_config = ConfigDict(from_attributes=True)

    kind: str
    version: int
    state: str
    primary_metric: str
    score: float
    sha256: str
    card: dict[str, Any]
    created_at: dt.datetime
    promoted_at: dt.datetime | None


class RunOut(BaseModel):
    """A training run."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    kind: str
    outcome: str
    params: dict[str, Any]
    metrics: dict[str, Any]
    data_window: dict[str, Any]
    synthetic: bool
    primary_metric: str
    score: float | None
    active_score: float | None
    model_sha256: str | None
    version: int | None
    started_at: dt.datetime
    finished_at: dt.datetime | None
