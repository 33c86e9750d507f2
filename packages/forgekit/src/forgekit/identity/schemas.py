"""Request and response bodies of the identity endpoints."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    EmailStr,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

from forgekit.identity.rbac import GrantableScope, Role, TeamRole

#: Upper bound on passwords: argon2 accepts any length, but hashing megabytes per request
#: would be a cheap denial of service.
MAX_PASSWORD_LENGTH = 1024

Username = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, to_lower=True, min_length=3, max_length=64,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$",
    ),
]  # fmt: skip
Password = Annotated[str, Field(min_length=1, max_length=MAX_PASSWORD_LENGTH)]


def normalize_email(email: str) -> str:
    """The stored form of an address: trimmed and lower-case (unique case-insensitively)."""
    return email.strip().lower()


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


# --- users and sessions ------------------------------------------------------------------------


class RegisterRequest(_Strict):
    """``POST /auth/register``. The minimum password length comes from settings."""

    email: EmailStr
    username: Username
    password: Password

    @field_validator("email")
    @classmethod
    def _normalise_email(cls, value: str) -> str:
        return normalize_email(value)


class UserRead(BaseModel):
    """A user as the API shows it: never a hash."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    email: str
    username: str
    role: str
    is_active: bool
    is_verified: bool
    created_at: datetime


class TokenResponse(BaseModel):
    """The OAuth2 token response (RFC 6749 section 5.1) plus our refresh token."""

    access_token: str
    refresh_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105
    expires_in: int = Field(description="Lifetime of the access token in seconds.")


class RefreshRequest(_Strict):
    """``POST /auth/refresh``."""

    refresh_token: str = Field(min_length=1, max_length=4096)


class TokenRequest(_Strict):
    """A single-use token from an email (``POST /auth/verify-email``)."""

    token: str = Field(min_length=1, max_length=512)


class PasswordResetRequest(_Strict):
    """``POST /auth/password-reset/request``."""

    email: EmailStr

    @field_validator("email")
    @classmethod
    def _normalise_email(cls, value: str) -> str:
        return normalize_email(value)


class PasswordResetConfirm(_Strict):
    """``POST /auth/password-reset``."""

    token: str = Field(min_length=1, max_length=512)
    new_password: Password


class Accepted(BaseModel):
    """A ``202`` answer whose outcome is deliberately not revealed."""

    detail: str


# --- API keys ---------------------------------------------------------------------------------


class ApiKeyCreate(_Strict):
    """``POST /auth/api-keys``."""

    name: str = Field(min_length=1, max_length=100)
    scopes: list[GrantableScope] = Field(default_factory=list, max_length=32)
    expires_at: AwareDatetime | None = None

    @field_validator("scopes")
    @classmethod
    def _dedupe(cls, value: list[str]) -> list[str]:
        return sorted(set(value))


class ApiKeyRead(BaseModel):
    """An API key's metadata: never the key itself."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    name: str
    prefix: str = Field(description="The key's first characters, to tell keys apart.")
    scopes: list[str]
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None


class ApiKeyCreated(ApiKeyRead):
    """The answer to creating or rotating a key: the only time the key is shown."""

    key: str


# --- teams ------------------------------------------------------------------------------------


TeamName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
Description = Annotated[str, StringConstraints(max_length=2000)]


class TeamCreate(_Strict):
    """``POST /api/v1/teams``."""

    name: TeamName
    description: Description | None = None


class TeamUpdate(_Strict):
    """``PATCH /api/v1/teams/{team_id}``: only the fields given change."""

    name: TeamName | None = None
    description: Description | None = None


class TeamRead(BaseModel):
    """A team, with the caller's role in it."""

    id: uuid.UUID
    name: str
    description: str | None
    created_at: datetime
    updated_at: datetime
    role: str | None = Field(description="The caller's role (None for an admin non-member).")


class MemberAdd(_Strict):
    """``POST /api/v1/teams/{team_id}/members``: name the user by exactly one of the fields."""

    user_id: uuid.UUID | None = None
    username: str | None = Field(default=None, max_length=64)
    email: str | None = Field(default=None, max_length=320)
    role: TeamRole = Role.DEVELOPER.value

    @model_validator(mode="after")
    def _exactly_one_user_reference(self) -> MemberAdd:
        given = [v for v in (self.user_id, self.username, self.email) if v is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of user_id, username or email")
        return self


class MemberUpdate(_Strict):
    """``PATCH /api/v1/teams/{team_id}/members/{user_id}``."""

    role: TeamRole


class MemberRead(BaseModel):
    """A member of a team (no email: members see each other's usernames only)."""

    user_id: uuid.UUID
    username: str
    role: str
    joined_at: datetime
