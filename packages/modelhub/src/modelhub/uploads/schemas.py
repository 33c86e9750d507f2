"""Bodies of the resumable-upload endpoints."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

Sha256 = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]


class UploadCreate(BaseModel):
    """``POST /api/v1/models/{owner}/{name}/uploads``: what will be sent."""

    model_config = ConfigDict(extra="forbid")

    filename: Annotated[str, StringConstraints(min_length=1, max_length=255)]
    size: int = Field(gt=0, description="Bytes of the whole file.")
    sha256: Sha256 = Field(description="SHA-256 of the whole file, checked at completion.")
    chunk_size: int | None = Field(default=None, description="Bytes per chunk (the last may be "
                                   "shorter); the server's default when omitted.")  # fmt: skip


class UploadRead(BaseModel):
    """An upload's state: which chunks arrived (resume by sending the others)."""

    id: uuid.UUID
    model_id: uuid.UUID
    filename: str
    size: int
    sha256: str
    chunk_size: int
    chunk_count: int
    received: list[int]
    status: str
    expires_at: datetime
    completed_at: datetime | None


class UploadCompleted(BaseModel):
    """The stored file of a completed upload."""

    id: uuid.UUID
    sha256: str
    size: int
    #: True when identical content was already stored (nothing was written again).
    duplicate: bool
