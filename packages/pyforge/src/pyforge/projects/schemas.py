"""Request and response bodies of the projects API."""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from forgekit.pagination import Page
from pyforge.projects.models import NAME_MAX

#: Upper bound of the serialised ``settings.analysis`` table: it is configuration, not data.
ANALYSIS_OPTIONS_MAX_BYTES = 64 * 1024

ProjectName = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=NAME_MAX)
]
Description = Annotated[str, StringConstraints(max_length=10_000)]


def _check_analysis(value: dict[str, Any]) -> dict[str, Any]:
    if len(json.dumps(value, default=str)) > ANALYSIS_OPTIONS_MAX_BYTES:
        raise ValueError(f"must serialise to at most {ANALYSIS_OPTIONS_MAX_BYTES} bytes")
    # The engine owns the meaning of its ``[tool.pyforge]`` table; asking it here means a bad
    # option is a 422 when saved rather than a failed analysis later.
    from pyforge.analysis.config import ConfigError, config_from_table

    if "extend" in value:
        # ``extend`` names a file on the analysing machine: never taken from an API client.
        raise ValueError("'extend' is not allowed in project settings")
    try:
        config_from_table(value, root=Path())
    except ConfigError as exc:
        raise ValueError(str(exc)) from None
    except (TypeError, ValueError, AttributeError, KeyError) as exc:
        # A value of the wrong shape deep inside the table: still the client's mistake.
        raise ValueError(f"invalid analysis options: {exc}") from None
    return value


class ProjectSettings(BaseModel):
    """A project's settings (seed 001 ``ProjectSettings``) plus the engine's options.

    ``analysis`` is a ``[tool.pyforge]``-shaped table (thresholds, select/ignore,
    enable/disable, exclude, gate, overrides) that the analysis service applies on top of any
    configuration found in the uploaded tree.
    """

    model_config = ConfigDict(extra="forbid")

    linting_enabled: bool = True
    auto_format: bool = False
    ml_suggestions: bool = True
    complexity_threshold: int = Field(default=10, ge=1, le=1000)
    analysis: dict[str, Any] = Field(default_factory=dict)

    @field_validator("analysis")
    @classmethod
    def _valid_analysis(cls, value: dict[str, Any]) -> dict[str, Any]:
        return _check_analysis(value)


class ProjectSettingsPatch(BaseModel):
    """A partial settings change (PATCH): given keys replace, others stay."""

    model_config = ConfigDict(extra="forbid")

    linting_enabled: bool | None = None
    auto_format: bool | None = None
    ml_suggestions: bool | None = None
    complexity_threshold: int | None = Field(default=None, ge=1, le=1000)
    analysis: dict[str, Any] | None = None

    @field_validator("analysis")
    @classmethod
    def _valid_analysis(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        return None if value is None else _check_analysis(value)


class ProjectCreate(BaseModel):
    """``POST /api/v1/projects``."""

    model_config = ConfigDict(extra="forbid")

    name: ProjectName
    description: Description | None = None
    team_id: uuid.UUID | None = None
    settings: ProjectSettings = Field(default_factory=ProjectSettings)
    is_public: bool = False


class ProjectReplace(ProjectCreate):
    """``PUT``: the complete new state; an omitted field returns to its default."""


class ProjectUpdate(BaseModel):
    """``PATCH``: only the fields sent change; ``settings`` is merged key by key."""

    model_config = ConfigDict(extra="forbid")

    name: ProjectName | None = None
    description: Description | None = None
    team_id: uuid.UUID | None = None
    settings: ProjectSettingsPatch | None = None
    is_public: bool | None = None


class ProjectRead(BaseModel):
    """A project as the API returns it (also the cached form)."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    name: str
    description: str | None
    owner_id: uuid.UUID
    team_id: uuid.UUID | None
    settings: ProjectSettings
    is_public: bool
    created_at: datetime
    updated_at: datetime
    #: The caller's role on this project (owner, developer, viewer, admin).
    role: str | None = None

    @field_validator("settings", mode="before")
    @classmethod
    def _lenient_settings(cls, value: Any) -> Any:
        # Stored settings were valid when written; an engine option removed since then must not
        # make the project unreadable, so reading skips the engine check.
        if isinstance(value, dict):
            return ProjectSettings.model_construct(**{**ProjectSettings().model_dump(), **value})
        return value


ProjectPage = Page[ProjectRead]
"""One page of projects."""
