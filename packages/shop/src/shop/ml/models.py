"""Tables of the ML services (migrations ``shop_0002_ml``, ``shop_0006_ml_schedule``): runs,
model versions, fraud rules, the fraud case queue and the nightly schedule's claims."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import BigInteger, Boolean, Float, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from forgekit.db.base import Base, UUIDPrimaryKey, utcnow
from forgekit.db.types import JSONType, UTCDateTime


class VersionState(StrEnum):
    """``active`` serves; ``standby`` was active and is kept for rollback; ``rejected`` never
    beat the active one; ``retired`` fell out of the kept history or was rolled back."""

    ACTIVE = "active"
    STANDBY = "standby"
    REJECTED = "rejected"
    RETIRED = "retired"


class CaseStatus(StrEnum):
    """A fraud case waits for staff, who confirm fraud or clear it as a false positive."""

    #: Approved at checkout: never queued, but kept as history and as training data.
    APPROVED = "approved"
    OPEN = "open"
    CONFIRMED_FRAUD = "confirmed_fraud"
    FALSE_POSITIVE = "false_positive"


class MlRun(UUIDPrimaryKey, Base):
    """One training run: what it read, what it measured, and what the registry did with it."""

    __tablename__ = "ml_runs"

    kind: Mapped[str] = mapped_column(String(16), nullable=False, index=True)
    #: The job's event id when the worker ran it: a redelivered job cannot log a second run.
    job_id: Mapped[str | None] = mapped_column(String(64), nullable=True, unique=True)
    #: ``promoted``, ``kept`` (not better than the active version) or ``failed``.
    outcome: Mapped[str] = mapped_column(String(16), nullable=False)
    params: Mapped[dict[str, Any]] = mapped_column(JSONType, nullable=False, default=dict)
    metrics: Mapped[dict[str, Any]] = mapped_column(JSONType, nullable=False, default=dict)
    data_window: Mapped[dict[str, Any]] = mapped_column(JSONType, nullable=False, default=dict)
    synthetic: Mapped[bool] = mapped_column(Boolean, nullable=False)
    primary_metric: Mapped[str] = mapped_column(String(32), nullable=False)
    score: Mapped[float | None] = mapped_column(Float, nullable=True)
    #: The active version's score on this run's held-out window (None: there was none).
    active_score: Mapped[float | None] = mapped_column(Float, nullable=True)
    model_sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)
    version: Mapped[int | None] = mapped_column(Integer, nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class MlModelVersion(UUIDPrimaryKey, Base):
    """A registered model version: its files in object storage and its card."""

    __tablename__ = "ml_model_versions"

    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    state: Mapped[str] = mapped_column(String(16), nullable=False)
    #: File name -> object-storage key (the key is the file's sha256).
    files: Mapped[dict[str, str]] = mapped_column(JSONType, nullable=False)
    card: Mapped[dict[str, Any]] = mapped_column(JSONType, nullable=False)
    primary_metric: Mapped[str] = mapped_column(String(32), nullable=False)
    score: Mapped[float] = mapped_column(Float, nullable=False)
    sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    promoted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    __table_args__ = (UniqueConstraint("kind", "version", name="uq_ml_model_versions_version"),)


class FraudRuleRow(Base):
    """A staff-editable fraud rule (see :class:`shop.ml.fraud.rules.Rule`)."""

    __tablename__ = "fraud_rules"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    feature: Mapped[str] = mapped_column(String(64), nullable=False)
    op: Mapped[str] = mapped_column(String(2), nullable=False)
    threshold: Mapped[float] = mapped_column(Float, nullable=False)
    weight: Mapped[float] = mapped_column(Float, nullable=False)
    message: Mapped[str] = mapped_column(Text, nullable=False)
    enabled: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)


class FraudCase(UUIDPrimaryKey, Base):
    """A scored order: one per order (scoring twice returns the first verdict)."""

    __tablename__ = "fraud_cases"

    order_ref: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    customer_ref: Mapped[str] = mapped_column(String(64), nullable=False, index=True)
    amount_minor: Mapped[int] = mapped_column(BigInteger, nullable=False)
    currency: Mapped[str] = mapped_column(String(3), nullable=False)
    score: Mapped[float] = mapped_column(Float, nullable=False)
    model_score: Mapped[float] = mapped_column(Float, nullable=False)
    rules_score: Mapped[float] = mapped_column(Float, nullable=False)
    decision: Mapped[str] = mapped_column(String(16), nullable=False, index=True)
    hits: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, nullable=False, default=list)
    features: Mapped[dict[str, float]] = mapped_column(JSONType, nullable=False, default=dict)
    #: The order as scored (:class:`shop.ml.fraud.data.OrderRow` fields): the customer's
    #: history for later orders and the retraining set.
    order_data: Mapped[dict[str, Any]] = mapped_column(JSONType, nullable=False)
    model_version: Mapped[int | None] = mapped_column(Integer, nullable=True)
    status: Mapped[str] = mapped_column(String(24), nullable=False, default=CaseStatus.OPEN)
    resolved_by: Mapped[uuid.UUID | None] = mapped_column(nullable=True)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)


class MlScheduleClaim(Base):
    """One scheduled job per (kind, period): the first worker to insert the row runs it.

    The primary key is the lock: every ML worker fires its nightly timer, and
    ``INSERT ... ON CONFLICT DO NOTHING`` lets exactly one of them claim each period.
    """

    __tablename__ = "ml_schedule_claims"

    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    #: The period the job covers, e.g. the UTC date ``2026-12-03`` of a nightly run.
    period: Mapped[str] = mapped_column(String(32), primary_key=True)
    #: Which process claimed it (host and pid), for the operator reading the table.
    claimed_by: Mapped[str] = mapped_column(String(128), nullable=False)
    claimed_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
