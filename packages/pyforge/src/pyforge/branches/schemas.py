"""Request and response bodies of the branches API."""

from __future__ import annotations

import re
import uuid
from datetime import datetime
from typing import Any, Final, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from forgekit.pagination import Page

#: Branch names as git allows them, minus what would be ambiguous in a URL or a shell.
BRANCH_NAME: Final = re.compile(r"^(?!/)(?!.*//)(?!.*\.\.)(?!.*/$)[A-Za-z0-9._/\-]{1,255}$")
#: A pull request's number or id as the code host names it.
PULL_REQUEST: Final = re.compile(r"^[A-Za-z0-9._\-#]{1,64}$")
#: Longest "N days" new-code period.
MAX_PERIOD_DAYS: Final = 3650


class BranchRead(BaseModel):
    """A branch with the state of its latest analysis."""

    id: uuid.UUID
    project_id: uuid.UUID
    name: str
    is_default: bool
    target: str | None
    created_at: datetime
    updated_at: datetime
    last_analysis_at: datetime | None
    latest_analysis_id: uuid.UUID | None = None
    #: The latest succeeded analysis' gate (a branch: on new code), or None before one.
    quality_gate_status: str | None = None


BranchPage = Page[BranchRead]
"""A project's branches, the default first."""


class NewCodePeriodIn(BaseModel):
    """A new-code period: ``previous_analysis``; ``version`` with the label; ``days`` with a
    number of days; ``reference_branch`` with the branch's name."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["previous_analysis", "version", "days", "reference_branch"]
    value: str | None = Field(default=None, max_length=255)

    @model_validator(mode="after")
    def _value_fits_kind(self) -> NewCodePeriodIn:
        if self.kind == "previous_analysis":
            self.value = None
        elif not self.value or not self.value.strip():
            raise ValueError(f"a {self.kind} period needs a value")
        elif self.kind == "days" and not (
            self.value.isdigit() and 1 <= int(self.value) <= MAX_PERIOD_DAYS
        ):
            raise ValueError(f"days must be a whole number from 1 to {MAX_PERIOD_DAYS}")
        elif self.kind == "reference_branch" and not BRANCH_NAME.match(self.value):
            raise ValueError("not a valid branch name")
        return self


class NewCodePeriodRead(NewCodePeriodIn):
    """The project's new-code period (the default when never set)."""

    project_id: uuid.UUID
    is_default: bool = False


class CodeSide(BaseModel):
    """One side of the overview: overall code or new code."""

    metrics: dict[str, Any]
    ratings: dict[str, str]
    quality_gate: dict[str, Any] | None


class OverviewRead(BaseModel):
    """A branch's latest analysis with overall and new code side by side."""

    project_id: uuid.UUID
    branch: str
    is_default: bool
    analysis_id: uuid.UUID
    pull_request: str | None
    #: Which gate decides the branch's status: ``overall`` (default branch) or ``new_code``.
    gate_on: Literal["overall", "new_code"]
    period: dict[str, Any] | None
    new_code_findings: dict[str, int]
    overall: CodeSide
    new_code: CodeSide
