"""Login sessions (access + rotating refresh tokens) and single-use emailed tokens."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum

from sqlalchemy.ext.asyncio import AsyncSession

from forgekit.db.base import utcnow
from forgekit.errors import BadRequest, Unauthorized
from forgekit.identity.models import OneTimeToken, RefreshToken, RevokedAccessToken, User
from forgekit.identity.principal import Principal
from forgekit.identity.repository import (
    OneTimeTokenRepository,
    RefreshTokenRepository,
    RevokedAccessTokenRepository,
    UserRepository,
)
from forgekit.identity.security import (
    InvalidTokenError,
    TokenClaims,
    TokenType,
    decode_token,
    encode_token,
    new_secret,
    sha256_hex,
)
from forgekit.settings import ForgeSettings

#: One message for every refused token, so a client learns nothing about why.
INVALID_TOKEN = "Invalid or expired token."  # noqa: S105


@dataclass(frozen=True)
class TokenPair:
    """What a login or refresh hands out."""

    access_token: str
    refresh_token: str
    expires_in: int
    access: TokenClaims
    refresh: TokenClaims


class SessionService:
    """Issues, rotates, verifies and revokes login-session tokens."""

    async def issue(
        self,
        session: AsyncSession,
        settings: ForgeSettings,
        user: User,
        family_id: uuid.UUID | None = None,
    ) -> TokenPair:
        """A new token pair for ``user`` (a new session unless ``family_id`` continues one).

        Only the SHA-256 of the refresh token's ``jti`` is stored, so a database dump yields
        no usable token (the signing key would be needed as well, but defence in depth).
        The caller commits.
        """
        family = family_id or uuid.uuid4()
        access, access_claims = encode_token(
            settings,
            user_id=user.id,
            token_type=TokenType.ACCESS,
            session_id=family,
            ttl_s=settings.access_token_ttl_s,
        )
        refresh, refresh_claims = encode_token(
            settings,
            user_id=user.id,
            token_type=TokenType.REFRESH,
            session_id=family,
            ttl_s=settings.refresh_token_ttl_s,
        )
        await RefreshTokenRepository(session).add(
            RefreshToken(
                user_id=user.id,
                family_id=family,
                jti_hash=sha256_hex(refresh_claims.jti),
                expires_at=refresh_claims.expires_at,
            ),
            flush=False,
        )
        return TokenPair(
            access_token=access,
            refresh_token=refresh,
            expires_in=settings.access_token_ttl_s,
            access=access_claims,
            refresh=refresh_claims,
        )

    async def rotate(
        self, session: AsyncSession, settings: ForgeSettings, refresh_token: str
    ) -> TokenPair:
        """Exchange a refresh token for a new pair; the presented token is spent.

        Presenting a spent token again is treated as theft: one of the two holders (the user
        or an attacker) is replaying it, and we cannot tell which, so the whole family is
        revoked and both must log in again. Commits.
        """
        try:
            claims = decode_token(settings, refresh_token, TokenType.REFRESH)
        except InvalidTokenError:
            raise Unauthorized(INVALID_TOKEN) from None
        tokens = RefreshTokenRepository(session)
        row = await tokens.get_by_jti_hash(sha256_hex(claims.jti))
        now = utcnow()
        if (
            row is None
            or row.user_id != claims.sub
            or row.family_id != claims.sid
            or row.revoked_at is not None
            or row.expires_at <= now
        ):
            raise Unauthorized(INVALID_TOKEN)
        if not await tokens.mark_used(row.id, now):
            await tokens.revoke_family(row.family_id, now)
            await session.commit()
            raise Unauthorized(INVALID_TOKEN, reason="refresh_token_reused")
        user = await UserRepository(session).get(row.user_id)
        if user is None or not user.is_active:
            await tokens.revoke_family(row.family_id, now)
            await session.commit()
            raise Unauthorized(INVALID_TOKEN)
        pair = await self.issue(session, settings, user, family_id=row.family_id)
        await session.commit()
        return pair

    async def authenticate(
        self,
        session: AsyncSession,
        settings: ForgeSettings,
        access_token: str,
        *,
        claims: TokenClaims | None = None,
    ) -> Principal:
        """The principal of a valid access token; 401 for anything else.

        ``claims`` may carry this same token's claims when they were verified earlier in the
        request (by the rate limiter's key function), saving a second signature check.
        """
        if claims is None:
            try:
                claims = decode_token(settings, access_token, TokenType.ACCESS)
            except InvalidTokenError:
                raise Unauthorized(INVALID_TOKEN) from None
        user = await RevokedAccessTokenRepository(session).session_user(
            claims.sub, sha256_hex(claims.jti), claims.sid
        )
        if user is None or not user.is_active:
            raise Unauthorized(INVALID_TOKEN)
        return Principal.for_session(user, claims)

    async def logout(self, session: AsyncSession, claims: TokenClaims) -> None:
        """Revoke the session (its refresh family) and the presented access token. Commits."""
        now = utcnow()
        await RefreshTokenRepository(session).revoke_family(claims.sid, now)
        revoked = RevokedAccessTokenRepository(session)
        # Housekeeping rides along with a rare, write-anyway request rather than needing a job.
        await revoked.purge_expired(now)
        await revoked.add(
            RevokedAccessToken(jti_hash=sha256_hex(claims.jti), expires_at=claims.expires_at),
            flush=False,
        )
        await session.commit()

    async def revoke_all(self, session: AsyncSession, user_id: uuid.UUID) -> None:
        """Revoke every session of a user (their access tokens die with them). No commit."""
        await RefreshTokenRepository(session).revoke_all_for_user(user_id, utcnow())


class TokenPurpose(StrEnum):
    """What a single-use token proves."""

    VERIFY_EMAIL = "verify_email"
    PASSWORD_RESET = "password_reset"  # noqa: S105


class OneTimeTokenService:
    """Single-use tokens sent by email; only their SHA-256 is stored."""

    async def create(
        self, session: AsyncSession, user: User, purpose: TokenPurpose, ttl_s: int
    ) -> str:
        """Create a token for ``user`` bound to their current email; returns it (once)."""
        raw = new_secret(32)
        await OneTimeTokenRepository(session).add(
            OneTimeToken(
                user_id=user.id,
                purpose=purpose.value,
                token_hash=sha256_hex(raw),
                email=user.email,
                expires_at=utcnow() + timedelta(seconds=ttl_s),
            )
        )
        return raw

    async def consume(self, session: AsyncSession, purpose: TokenPurpose, raw: str) -> User:
        """Spend a token and return its user; 400 when unknown, used, expired or stale.

        Spending one token spends the user's other outstanding tokens of the same purpose,
        so an older reset link in the mailbox cannot be used after a newer one was.
        No commit: the caller commits together with what the token allowed.
        """
        repo = OneTimeTokenRepository(session)
        row = await repo.get_by_hash(purpose.value, sha256_hex(raw))
        now = utcnow()
        if row is None or not await repo.consume(row.id, now):
            raise BadRequest(INVALID_TOKEN)
        user = await UserRepository(session).get(row.user_id)
        if user is None or not user.is_active or user.email != row.email:
            raise BadRequest(INVALID_TOKEN)
        await repo.invalidate_for_user(user.id, purpose.value, now)
        return user


sessions = SessionService()
one_time_tokens = OneTimeTokenService()
