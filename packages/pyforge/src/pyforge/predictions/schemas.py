"""Request and response bodies of the ML API (``/api/v1/ml``)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

#: Upper bound of one request's code (the analysis API takes bigger trees as uploads).
MAX_CODE_CHARS = 500_000


class CodeIn(BaseModel):
    """One source file to score."""

    model_config = ConfigDict(extra="forbid")

    code: str = Field(max_length=MAX_CODE_CHARS)
    filename: str = Field(default="snippet.py", min_length=1, max_length=255)


class DetectIn(CodeIn):
    """``POST /api/v1/ml/detect/bugs``."""

    threshold: float | None = Field(
        default=None, ge=0.0, le=1.0,
        description="Report detections at or above this probability; default: the model card's.",
    )  # fmt: skip


class ModelRef(BaseModel):
    """Which model answered."""

    name: str
    version: str


class DetectionOut(BaseModel):
    """One suspected bug (1-based lines and columns of the file)."""

    path: str
    function: str
    line: int
    column: int
    end_line: int
    end_column: int
    kind: str
    probability: float
    repair: str
    message: str


class DetectOut(BaseModel):
    """Detections, most probable first."""

    model_config = ConfigDict(protected_namespaces=())

    model: ModelRef
    model_version: str
    threshold: float
    synthetic_training_data: bool = True
    detections: list[DetectionOut]


class QualityIn(BaseModel):
    """``POST /api/v1/ml/predict/quality``: one file (``code``) or several (``files``)."""

    model_config = ConfigDict(extra="forbid")

    code: str | None = Field(default=None, max_length=MAX_CODE_CHARS)
    filename: str = Field(default="snippet.py", min_length=1, max_length=255)
    files: dict[str, str] | None = Field(default=None, max_length=500)


class QualityScore(BaseModel):
    """A 0-100 score, its A-E level and the confidence of the call."""

    score: int
    level: str
    confidence: float
    bug_probability: float


class FileQuality(QualityScore):
    """A file's prediction."""

    path: str
    functions: int
    loc: int


class QualityOut(BaseModel):
    """Per file and per project."""

    model_config = ConfigDict(protected_namespaces=())

    model: ModelRef
    model_version: str
    predicts: str
    project: QualityScore | None
    files: list[FileQuality]
    skipped: dict[str, str] = Field(default_factory=dict)


class MlModelRead(BaseModel):
    """A registered model version."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    name: str
    version: str
    sha256: str
    size_bytes: int
    threshold: float | None
    metrics: dict[str, Any]
    is_default: bool
    created_at: datetime


class MlModelCard(MlModelRead):
    """A version with its model card (Markdown)."""

    card: str


class DefaultIn(BaseModel):
    """``PUT /api/v1/ml/models/{name}/default``: the version to serve."""

    model_config = ConfigDict(extra="forbid")

    version: str = Field(min_length=1, max_length=32)


class PredictionRead(BaseModel):
    """What the ML consumer attached to an analysis."""

    model_config = ConfigDict(from_attributes=True)

    analysis_id: uuid.UUID
    detector_version: str
    quality_version: str
    quality: dict[str, Any]
    detections: list[dict[str, Any]]
    files_analysed: int
    note: str | None
    created_at: datetime


class RefactorIn(CodeIn):
    """``POST /api/v1/ml/suggest/refactor``."""

    rules: list[str] | None = Field(default=None, max_length=32)


class RefactorOut(BaseModel):
    """Located suggestions with before/after previews; ``fixed`` is the code with every safe
    fix applied (``pyforge fix --apply`` does the same to files)."""

    model_config = ConfigDict(protected_namespaces=())

    model_version: str
    suggestions: list[dict[str, Any]]
    fixed: str
    fixes: dict[str, int]
