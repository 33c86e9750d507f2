"""Bodies of the version and alias endpoints."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

AliasName = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_-]{0,63}$")]


class VersionCreate(BaseModel):
    """``POST /api/v1/models/{owner}/{name}/versions``: a completed upload becomes a version."""

    model_config = ConfigDict(extra="forbid")

    version: Annotated[str, StringConstraints(min_length=5, max_length=64)]
    upload_id: uuid.UUID
    changelog: Annotated[str, StringConstraints(max_length=20_000)] = ""
    #: TorchScript only: the shape of one example input (float32) for the ONNX export; by
    #: default ``[1, n]`` with ``n`` the input width of the first linear layer.
    input_shape: list[Annotated[int, Field(ge=1, le=65_536)]] | None = Field(
        default=None, min_length=1, max_length=8
    )


class ConversionRead(BaseModel):
    """How the conversion of a TorchScript or scikit-learn file to ONNX went."""

    status: str = Field(description="pending, succeeded or failed")
    source: str = Field(description="the converted format: torchscript or pickle")
    reason: str | None = None
    onnx_sha256: str | None = None
    onnx_size: int | None = None
    input_shape: list[int] | None = None


class VersionRead(BaseModel):
    """A version as the API shows it."""

    id: uuid.UUID
    version: str
    status: str
    prerelease: bool
    sha256: str
    size: int
    filename: str
    format: str
    #: False when the file cannot be served by hosted inference (``format_note`` says why).
    servable: bool
    format_note: str | None
    signature: dict[str, Any]
    #: Set for files converted to ONNX (TorchScript, scikit-learn); None for the others.
    conversion: ConversionRead | None = None
    changelog: str
    created_at: datetime
    published_at: datetime | None


class AliasMoveIn(BaseModel):
    """``PUT …/aliases/{alias}``: point the alias at a published version."""

    model_config = ConfigDict(extra="forbid")

    version: Annotated[str, StringConstraints(min_length=5, max_length=64)]


class AliasRead(BaseModel):
    """An alias and the version it names."""

    alias: str
    version: str
    updated_at: datetime


class AliasMoveRead(BaseModel):
    """One move in an alias's history."""

    alias: str
    from_version: str | None
    to_version: str
    moved_by: uuid.UUID | None
    moved_at: datetime


class DownloadLink(BaseModel):
    """A short-lived download URL of a version's file."""

    url: str
    expires_in: int
    sha256: str
    size: int
