"""Modelhub's event types and their payloads."""

from __future__ import annotations

import uuid
from typing import Final

from pydantic import BaseModel

from forgekit.events.types import EventType


class ModelEvent(BaseModel):
    """Every model event: which model, by slug, and its owner."""

    model_id: uuid.UUID
    slug: str
    owner_id: uuid.UUID
    status: str
    visibility: str


class ModelUpdated(ModelEvent):
    """``model.updated`` with the fields that changed."""

    changed: list[str]


MODEL_CREATED: Final = EventType("model.created", ModelEvent)
MODEL_UPDATED: Final = EventType("model.updated", ModelUpdated)
MODEL_PUBLISHED: Final = EventType("model.published", ModelEvent)
MODEL_DEPRECATED: Final = EventType("model.deprecated", ModelEvent)
MODEL_DELETED: Final = EventType("model.deleted", ModelEvent)


class VersionEvent(ModelEvent):
    """``model.version.created`` / ``model.version.published``."""

    version: str
    sha256: str
    format: str


class AliasMoved(ModelEvent):
    """``model.alias.moved``: ``alias`` now names ``to_version`` (``from_version`` before)."""

    alias: str
    from_version: str | None
    to_version: str


VERSION_CREATED: Final = EventType("model.version.created", VersionEvent)
VERSION_PUBLISHED: Final = EventType("model.version.published", VersionEvent)
ALIAS_MOVED: Final = EventType("model.alias.moved", AliasMoved)


class ReviewEvent(ModelEvent):
    """``review.created`` / ``review.updated``: a review of the model and its rating."""

    review_id: uuid.UUID
    author_id: uuid.UUID
    rating: int
    hidden: bool


class ReviewUpdated(ReviewEvent):
    """``review.updated`` with what changed (``rating``, ``title``, ``body``, ``reply``)."""

    changed: list[str]


class ReviewModerated(ReviewEvent):
    """``review.moderated``: an admin hid (with a reason) or restored the review."""

    action: str
    reason: str | None


REVIEW_CREATED: Final = EventType("review.created", ReviewEvent)
REVIEW_UPDATED: Final = EventType("review.updated", ReviewUpdated)
REVIEW_MODERATED: Final = EventType("review.moderated", ReviewModerated)

class ConversionRequested(BaseModel):
    """``model.version.conversion_requested``: convert a version's file to ONNX (worker job)."""

    model_id: uuid.UUID
    version_id: uuid.UUID
    #: ``torchscript`` or ``sklearn``: which converter the sandbox runs.
    kind: str
    #: TorchScript: the example input's shape (None: guessed from the first linear layer).
    input_shape: list[int] | None = None


class ConversionFinished(ModelEvent):
    """``model.version.converted``: the conversion ended (``conversion`` says how)."""

    version: str
    conversion: str
    reason: str | None


CONVERSION_REQUESTED: Final = EventType("model.version.conversion_requested", ConversionRequested)
CONVERSION_FINISHED: Final = EventType("model.version.converted", ConversionFinished)


class UsageRecorded(BaseModel):
    """``usage.recorded``: one billable call was counted (once per consumer and request id)."""

    event_id: uuid.UUID
    consumer_id: uuid.UUID
    model_id: uuid.UUID
    version: str
    request_id: str
    items: int
    compute_ms: int
    occurred_at: str


USAGE_RECORDED: Final = EventType("usage.recorded", UsageRecorded)


class JobEvent(BaseModel):
    """``inference.job.requested`` / ``inference.job.finished``: which job (and its state)."""

    job_id: uuid.UUID
    model_id: uuid.UUID
    status: str


JOB_REQUESTED: Final = EventType("inference.job.requested", JobEvent)
JOB_FINISHED: Final = EventType("inference.job.finished", JobEvent)


class PurchaseStep(BaseModel):
    """``purchase.step``: run the purchase saga's next step (its state is in the database)."""

    purchase_id: uuid.UUID
    step: str


PURCHASE_STEP: Final = EventType("purchase.step", PurchaseStep)


class PaymentFailed(BaseModel):
    """``billing.payment_failed``: an invoice's charge failed (attempt ``attempt``); the
    dunning e-mail says when it is retried, or that access is suspended when ``final``."""

    invoice: str
    attempt: int
    final: bool
    next_retry_at: str | None = None


BILLING_PAYMENT_FAILED: Final = EventType("billing.payment_failed", PaymentFailed)
