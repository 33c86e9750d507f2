"""Queries of the identity tables. Repositories never commit: services own transactions."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from functools import cache

from sqlalchemy import ColumnElement, Select, bindparam, delete, exists, func, or_, select, update
from sqlalchemy.orm import aliased, joinedload

from forgekit.db import Repository
from forgekit.db.base import utcnow
from forgekit.identity.models import (
    ApiKey,
    OneTimeToken,
    RefreshToken,
    RevokedAccessToken,
    Team,
    TeamMember,
    User,
)
from forgekit.identity.rbac import Role


def _rowcount(result: object) -> int:
    return int(getattr(result, "rowcount", 0) or 0)


class UserRepository(Repository[User]):
    """Users; lookups take already-normalised (lower-case) emails and usernames."""

    model = User

    async def get_by_email(self, email: str, *, include_deleted: bool = False) -> User | None:
        """The user with this (normalised) email."""
        stmt = self.select_all(include_deleted=include_deleted).where(User.email == email)
        return await self.one_or_none(stmt)

    async def get_by_username(self, username: str, *, include_deleted: bool = False) -> User | None:
        """The user with this (normalised) username."""
        stmt = self.select_all(include_deleted=include_deleted).where(User.username == username)
        return await self.one_or_none(stmt)

    async def get_by_login(self, identifier: str) -> User | None:
        """The live user whose username or email is ``identifier``."""
        stmt = self.select_all().where(or_(User.username == identifier, User.email == identifier))
        return await self.one_or_none(stmt)

    async def taken(self, *, email: str, username: str) -> tuple[bool, bool]:
        """Whether the email and the username are in use (soft-deleted accounts included)."""
        rows = (
            await self.session.execute(
                select(User.email, User.username).where(
                    or_(User.email == email, User.username == username)
                )
            )
        ).all()
        return any(r.email == email for r in rows), any(r.username == username for r in rows)


class RefreshTokenRepository(Repository[RefreshToken]):
    """Refresh tokens and their families."""

    model = RefreshToken

    async def get_by_jti_hash(self, jti_hash: str) -> RefreshToken | None:
        """The token row for this hashed ``jti``."""
        return await self.one_or_none(self.select_all().where(RefreshToken.jti_hash == jti_hash))

    async def mark_used(self, token_id: uuid.UUID, now: datetime) -> bool:
        """Atomically mark a live token used; False when it was used or revoked already.

        A conditional UPDATE (not read-then-write) so two concurrent refreshes with the same
        token cannot both succeed, on SQLite as on PostgreSQL.
        """
        result = await self.session.execute(
            update(RefreshToken)
            .where(
                RefreshToken.id == token_id,
                RefreshToken.used_at.is_(None),
                RefreshToken.revoked_at.is_(None),
            )
            .values(used_at=now)
            .execution_options(synchronize_session=False)
        )
        return _rowcount(result) == 1

    async def revoke_family(self, family_id: uuid.UUID, now: datetime) -> int:
        """Revoke every token of a family (a session); returns how many were live."""
        result = await self.session.execute(
            update(RefreshToken)
            .where(RefreshToken.family_id == family_id, RefreshToken.revoked_at.is_(None))
            .values(revoked_at=now)
            .execution_options(synchronize_session=False)
        )
        return _rowcount(result)

    async def revoke_all_for_user(self, user_id: uuid.UUID, now: datetime) -> int:
        """Revoke every session of a user (password reset)."""
        result = await self.session.execute(
            update(RefreshToken)
            .where(RefreshToken.user_id == user_id, RefreshToken.revoked_at.is_(None))
            .values(revoked_at=now)
            .execution_options(synchronize_session=False)
        )
        return _rowcount(result)

    async def purge_expired(self, now: datetime) -> int:
        """Delete tokens past their expiry (they can no longer be presented)."""
        result = await self.session.execute(
            delete(RefreshToken).where(RefreshToken.expires_at < now)
        )
        return _rowcount(result)


@cache
def _session_user_statement() -> Select[User]:
    """The statement of :meth:`RevokedAccessTokenRepository.session_user`, built once.

    It runs on every authenticated request; building the expression and its cache key anew
    each time cost more CPU than the round trip. Values travel as bound parameters.
    """
    token_revoked = exists().where(RevokedAccessToken.jti_hash == bindparam("jti_hash"))
    family_revoked = exists().where(
        RefreshToken.family_id == bindparam("family_id"), RefreshToken.revoked_at.is_not(None)
    )
    return select(User).where(
        User.id == bindparam("user_id"), User.deleted_at.is_(None), ~token_revoked, ~family_revoked
    )


class RevokedAccessTokenRepository(Repository[RevokedAccessToken]):
    """The deny-list of access tokens revoked before expiry."""

    model = RevokedAccessToken

    async def session_user(
        self, user_id: uuid.UUID, jti_hash: str, family_id: uuid.UUID
    ) -> User | None:
        """The live user of an access token, or None when the token or its session is revoked.

        One round trip for the user and both revocation checks, since it runs on every
        authenticated request.
        """
        params = {"user_id": user_id, "jti_hash": jti_hash, "family_id": family_id}
        result = await self.session.execute(_session_user_statement(), params)
        return result.scalars().one_or_none()

    async def purge_expired(self, now: datetime) -> int:
        """Forget revocations of tokens that have expired anyway."""
        result = await self.session.execute(
            delete(RevokedAccessToken).where(RevokedAccessToken.expires_at < now)
        )
        return _rowcount(result)


class OneTimeTokenRepository(Repository[OneTimeToken]):
    """Email-verification and password-reset tokens."""

    model = OneTimeToken

    async def get_by_hash(self, purpose: str, token_hash: str) -> OneTimeToken | None:
        """The token with this hash and purpose (used or not)."""
        return await self.one_or_none(
            self.select_all().where(
                OneTimeToken.token_hash == token_hash, OneTimeToken.purpose == purpose
            )
        )

    async def consume(self, token_id: uuid.UUID, now: datetime) -> bool:
        """Atomically mark an unused, unexpired token used; False when that failed."""
        result = await self.session.execute(
            update(OneTimeToken)
            .where(
                OneTimeToken.id == token_id,
                OneTimeToken.used_at.is_(None),
                OneTimeToken.expires_at > now,
            )
            .values(used_at=now)
            .execution_options(synchronize_session=False)
        )
        return _rowcount(result) == 1

    async def invalidate_for_user(self, user_id: uuid.UUID, purpose: str, now: datetime) -> int:
        """Use up a user's outstanding tokens of ``purpose`` (one reset spends all links)."""
        result = await self.session.execute(
            update(OneTimeToken)
            .where(
                OneTimeToken.user_id == user_id,
                OneTimeToken.purpose == purpose,
                OneTimeToken.used_at.is_(None),
            )
            .values(used_at=now)
            .execution_options(synchronize_session=False)
        )
        return _rowcount(result)


class ApiKeyRepository(Repository[ApiKey]):
    """API keys."""

    model = ApiKey

    async def get_by_hash(self, key_hash: str) -> ApiKey | None:
        """The key with this hash (revoked or not)."""
        return await self.one_or_none(self.select_all().where(ApiKey.key_hash == key_hash))

    async def list_for_user(self, user_id: uuid.UUID) -> Sequence[ApiKey]:
        """A user's keys that are not revoked, newest first."""
        return await self.all(
            self.select_all()
            .where(ApiKey.user_id == user_id, ApiKey.revoked_at.is_(None))
            .order_by(ApiKey.created_at.desc(), ApiKey.id)
        )

    async def get_for_user(self, key_id: uuid.UUID, user_id: uuid.UUID) -> ApiKey | None:
        """The user's unrevoked key ``key_id`` (None for anybody else's key)."""
        return await self.one_or_none(
            self.select_all().where(
                ApiKey.id == key_id, ApiKey.user_id == user_id, ApiKey.revoked_at.is_(None)
            )
        )

    async def touch(self, key_id: uuid.UUID, now: datetime, min_interval_s: float) -> bool:
        """Set ``last_used_at`` unless it was set less than ``min_interval_s`` ago.

        The condition lives in the UPDATE so concurrent requests write at most once per
        interval, and a busy key costs one write a minute rather than one per request.
        """
        cutoff = now - timedelta(seconds=min_interval_s)
        result = await self.session.execute(
            update(ApiKey)
            .where(
                ApiKey.id == key_id,
                or_(ApiKey.last_used_at.is_(None), ApiKey.last_used_at < cutoff),
            )
            # Explicit updated_at keeps its onupdate from firing: use is not modification.
            .values(last_used_at=now, updated_at=ApiKey.updated_at)
            .execution_options(synchronize_session=False)
        )
        return _rowcount(result) == 1


class TeamRepository(Repository[Team]):
    """Teams (soft-deleted ones hidden)."""

    model = Team

    def select_for_user(self, user_id: uuid.UUID) -> Select[Team]:
        """Teams ``user_id`` is a member of."""
        return (
            self.select_all()
            .join(TeamMember, TeamMember.team_id == Team.id)
            .where(TeamMember.user_id == user_id)
            .order_by(Team.name, Team.id)
        )


class TeamMemberRepository(Repository[TeamMember]):
    """Memberships."""

    model = TeamMember

    async def get_membership(self, team_id: uuid.UUID, user_id: uuid.UUID) -> TeamMember | None:
        """``user_id``'s membership of ``team_id``, or None."""
        return await self.one_or_none(
            self.select_all().where(TeamMember.team_id == team_id, TeamMember.user_id == user_id)
        )

    async def list_with_users(self, team_id: uuid.UUID) -> Sequence[TeamMember]:
        """A team's members with their user rows, by username."""
        return await self.all(
            self.select_all()
            .join(User, User.id == TeamMember.user_id)
            .options(joinedload(TeamMember.user))
            .where(TeamMember.team_id == team_id)
            .order_by(User.username)
        )

    async def count_role(self, team_id: uuid.UUID, role: str) -> int:
        """How many members hold ``role`` in the team."""
        total = await self.session.scalar(
            select(func.count())
            .select_from(TeamMember)
            .where(TeamMember.team_id == team_id, TeamMember.role == role)
        )
        return int(total or 0)

    def _other_owner_exists(self, team_id: uuid.UUID, user_id: uuid.UUID) -> ColumnElement[bool]:
        other = aliased(TeamMember)
        return exists().where(
            other.team_id == team_id, other.role == Role.OWNER.value, other.user_id != user_id
        )

    async def set_role_keeping_an_owner(
        self, team_id: uuid.UUID, user_id: uuid.UUID, role: str
    ) -> bool:
        """Change a member's role unless that would leave the team without an owner.

        The owner check sits inside the UPDATE: on SQLite the single writer makes the
        statement atomic; on PostgreSQL the service first locks the team row, so two owners
        demoting each other at once cannot both succeed.
        """
        stmt = update(TeamMember).where(
            TeamMember.team_id == team_id, TeamMember.user_id == user_id
        )
        if role != Role.OWNER.value:
            stmt = stmt.where(
                or_(
                    TeamMember.role != Role.OWNER.value,
                    self._other_owner_exists(team_id, user_id),
                )
            )
        result = await self.session.execute(
            stmt.values(role=role, updated_at=utcnow()).execution_options(synchronize_session=False)
        )
        return _rowcount(result) == 1

    async def remove_keeping_an_owner(self, team_id: uuid.UUID, user_id: uuid.UUID) -> bool:
        """Remove a member unless they are the team's last owner (same locking as above)."""
        result = await self.session.execute(
            delete(TeamMember)
            .where(
                TeamMember.team_id == team_id,
                TeamMember.user_id == user_id,
                or_(
                    TeamMember.role != Role.OWNER.value,
                    self._other_owner_exists(team_id, user_id),
                ),
            )
            .execution_options(synchronize_session=False)
        )
        return _rowcount(result) == 1

    async def lock_team(self, team_id: uuid.UUID) -> None:
        """Serialise membership changes of one team (``FOR UPDATE``; a no-op on SQLite)."""
        await self.session.execute(select(Team.id).where(Team.id == team_id).with_for_update())
