"""Identity tables: users, sessions (refresh-token families), one-time tokens, API keys, teams.

No secret is stored in clear: passwords as argon2id hashes, refresh-token ids, one-time tokens
and API keys as SHA-256 hex digests (they are high-entropy random values, so a fast hash is
enough; a slow one would only cost CPU on every request).
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column, relationship

from forgekit.db.base import Base, SoftDeleteMixin, TimestampMixin, UUIDPrimaryKey, utcnow
from forgekit.db.types import JSONType, UTCDateTime
from forgekit.identity.rbac import DEFAULT_USER_ROLE, Role


class User(UUIDPrimaryKey, TimestampMixin, SoftDeleteMixin, Base):
    """An account. ``email`` and ``username`` are stored lower-case, so their unique indexes
    make them unique case-insensitively on both databases without functional indexes.

    A soft-deleted user keeps its email and username reserved: handing them to a newcomer would
    let the newcomer receive mail and mentions meant for the old account.
    """

    __tablename__ = "users"

    email: Mapped[str] = mapped_column(String(320), nullable=False, unique=True)
    username: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    password_hash: Mapped[str] = mapped_column(String(255), nullable=False)
    is_active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    is_verified: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    role: Mapped[str] = mapped_column(String(16), nullable=False, default=DEFAULT_USER_ROLE.value)
    email_verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    @property
    def is_admin(self) -> bool:
        """True for the global ``admin`` role."""
        return self.role == Role.ADMIN.value


class RefreshToken(UUIDPrimaryKey, Base):
    """One refresh token of a session; a session is a *family* of successive tokens.

    Each refresh marks the presented token used and issues its successor in the same family;
    presenting a used token again means it was stolen (or replayed), so the whole family is
    revoked. Access tokens carry the family id (``sid``) and die with it.
    """

    __tablename__ = "refresh_tokens"

    user_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True
    )
    family_id: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False, index=True)
    jti_hash: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class RevokedAccessToken(Base):
    """An access token revoked before its expiry (logout); kept until ``expires_at``."""

    __tablename__ = "revoked_access_tokens"

    jti_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, index=True)


class OneTimeToken(UUIDPrimaryKey, Base):
    """A single-use, expiring token mailed to a user (email verification, password reset).

    ``email`` is the address the token was sent to: if the account's address changes before
    the token is used, the token no longer proves anything and is refused.
    """

    __tablename__ = "one_time_tokens"

    user_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True
    )
    purpose: Mapped[str] = mapped_column(String(32), nullable=False)
    token_hash: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    email: Mapped[str] = mapped_column(String(320), nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class ApiKey(UUIDPrimaryKey, TimestampMixin, Base):
    """A long-lived credential (``<marker>_…``) acting for its owner within ``scopes``."""

    __tablename__ = "api_keys"

    user_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True
    )
    name: Mapped[str] = mapped_column(String(100), nullable=False)
    #: The first characters of the key, shown in listings so a user can tell keys apart.
    prefix: Mapped[str] = mapped_column(String(16), nullable=False)
    key_hash: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    scopes: Mapped[list[str]] = mapped_column(JSONType, nullable=False, default=list)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class Team(UUIDPrimaryKey, TimestampMixin, SoftDeleteMixin, Base):
    """A group of users sharing resources; members hold a team role."""

    __tablename__ = "teams"

    name: Mapped[str] = mapped_column(String(100), nullable=False)
    description: Mapped[str | None] = mapped_column(Text, nullable=True)

    members: Mapped[list[TeamMember]] = relationship(
        back_populates="team", cascade="all, delete-orphan", lazy="raise"
    )


class TeamMember(TimestampMixin, Base):
    """A user's membership of a team, with the role they hold there."""

    __tablename__ = "team_members"

    team_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("teams.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    role: Mapped[str] = mapped_column(String(16), nullable=False)

    team: Mapped[Team] = relationship(back_populates="members", lazy="raise")
    user: Mapped[User] = relationship(lazy="raise")
