"""Import jobs out."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict


class RejectedRow(BaseModel):
    """A row left out, with its line number in the file (the header is line 1)."""

    line: int
    reason: str


class ImportRead(BaseModel):
    """An import job: status, progress (rows checked of the total) and the report."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    status: str
    filename: str
    total: int
    processed: int
    accepted: int
    rejected: int
    progress: float = 0.0
    report: list[RejectedRow]
    error: str | None
    created_at: datetime
    finished_at: datetime | None
