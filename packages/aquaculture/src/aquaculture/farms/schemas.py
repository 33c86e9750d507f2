"""Farms, sites and tanks in and out."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from aquaculture.permissions import FarmRole

Name = Field(min_length=1, max_length=100)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class FarmCreate(_Strict):
    """``POST /api/v1/farms``: the caller becomes the farm's admin."""

    name: str = Name
    description: str | None = Field(default=None, max_length=2000)
    location: str | None = Field(default=None, max_length=200)


class FarmRead(BaseModel):
    """A farm with the caller's role in it (None for a platform admin who is no member)."""

    id: uuid.UUID
    name: str
    description: str | None
    location: str | None
    role: FarmRole | None
    created_at: datetime


class MemberAdd(_Strict):
    """``POST /api/v1/farms/{farm_id}/members``: a user by username, with a farm role."""

    username: str = Field(min_length=1, max_length=64)
    role: FarmRole = FarmRole.VIEWER


class MemberRead(BaseModel):
    """A member of a farm."""

    user_id: uuid.UUID
    username: str
    role: FarmRole


class SiteCreate(_Strict):
    """``POST /api/v1/farms/{farm_id}/sites``."""

    name: str = Name
    location: str | None = Field(default=None, max_length=200)


class SiteRead(BaseModel):
    """A site of a farm."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    farm_id: uuid.UUID
    name: str
    location: str | None
    created_at: datetime


class TankCreate(_Strict):
    """``POST /api/v1/farms/{farm_id}/sites/{site_id}/tanks``."""

    name: str = Name
    kind: Literal["tank", "pen"] = "tank"


class TankRead(BaseModel):
    """A tank or pen."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    farm_id: uuid.UUID
    site_id: uuid.UUID
    name: str
    kind: str
    created_at: datetime
