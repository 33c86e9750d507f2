"""API keys: the product's marker (``pfk_`` for PyForge) + 43 URL-safe characters (256 random
bits), stored as SHA-256 only.

A fast hash is right here, unlike for passwords: the key is random, so there is nothing to
brute-force, and a slow hash would cost its full price on every API request.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from forgekit.db.base import utcnow
from forgekit.errors import Forbidden, NotFound, Unauthorized, Unprocessable
from forgekit.identity.models import ApiKey
from forgekit.identity.principal import Principal
from forgekit.identity.repository import ApiKeyRepository, UserRepository
from forgekit.identity.schemas import ApiKeyCreate
from forgekit.identity.security import new_secret, sha256_hex

#: The default marker (``FORGE_API_KEY_PREFIX``); each product names its own.
API_KEY_PREFIX = "fgk_"
#: Random characters of the key shown in listings after the marker (48 bits, enough to tell a
#: user's keys apart, far too few to help guess one).
DISPLAY_RANDOM_CHARS = 8
#: A marker: 2-8 lowercase letters or digits and ``_``. A JWT starts with ``eyJ`` (base64 of
#: ``{"``), so a credential of this shape is never mistaken for one.
_MARKER = re.compile(r"^[a-z0-9]{2,8}_")
#: ``last_used_at`` is written at most this often per key.
LAST_USED_RESOLUTION_S = 60.0
INVALID_KEY = "Invalid, expired or revoked API key."


def generate_api_key(marker: str = API_KEY_PREFIX) -> tuple[str, str, str]:
    """A new key: ``(key, display_prefix, sha256_hex)``."""
    if not _MARKER.fullmatch(marker):
        raise ValueError(f"invalid API key marker {marker!r}")
    key = marker + new_secret(32)
    return key, key[: len(marker) + DISPLAY_RANDOM_CHARS], sha256_hex(key)


def looks_like_api_key(credential: str) -> bool:
    """True when a credential has an API key's shape (a marker, rather than a JWT)."""
    return _MARKER.match(credential) is not None


def _touch_due(last_used_at: datetime | None, now: datetime) -> bool:
    """True when ``last_used_at`` is unset or older than :data:`LAST_USED_RESOLUTION_S`."""
    return last_used_at is None or (now - last_used_at).total_seconds() >= LAST_USED_RESOLUTION_S


class ApiKeyService:
    """Creation, listing, rotation, revocation and authentication of API keys."""

    async def create(
        self,
        session: AsyncSession,
        principal: Principal,
        data: ApiKeyCreate,
        marker: str = API_KEY_PREFIX,
    ) -> tuple[ApiKey, str]:
        """Create a key for the principal's user; returns the row and the key (shown once).

        A key can only carry scopes the creator holds: creating keys must never escalate.
        """
        missing = principal.missing(*data.scopes)
        if missing:
            raise Forbidden(
                f"You cannot grant scopes you do not hold: {', '.join(missing)}.",
                missing_scopes=missing,
            )
        if data.expires_at is not None and data.expires_at <= utcnow():
            raise Unprocessable(
                "expires_at must be in the future.",
                errors=[
                    {
                        "field": "body.expires_at",
                        "message": "must be in the future",
                        "type": "value_error",
                    }
                ],
            )
        key, prefix, key_hash = generate_api_key(marker)
        row = await ApiKeyRepository(session).add(
            ApiKey(
                user_id=principal.user_id,
                name=data.name,
                prefix=prefix,
                key_hash=key_hash,
                scopes=list(data.scopes),
                expires_at=data.expires_at,
            )
        )
        await session.commit()
        return row, key

    async def list(self, session: AsyncSession, principal: Principal) -> Sequence[ApiKey]:
        """The principal's user's live keys."""
        return await ApiKeyRepository(session).list_for_user(principal.user_id)

    async def _own(self, session: AsyncSession, principal: Principal, key_id: uuid.UUID) -> ApiKey:
        key = await ApiKeyRepository(session).get_for_user(key_id, principal.user_id)
        if key is None:
            # Someone else's key is "not found" too: ids are not an oracle.
            raise NotFound("API key not found.")
        return key

    async def revoke(self, session: AsyncSession, principal: Principal, key_id: uuid.UUID) -> None:
        """Revoke one of the user's keys (kept for audit, never usable again). Commits."""
        key = await self._own(session, principal, key_id)
        key.revoked_at = utcnow()
        await session.commit()

    async def rotate(
        self,
        session: AsyncSession,
        principal: Principal,
        key_id: uuid.UUID,
        marker: str = API_KEY_PREFIX,
    ) -> tuple[ApiKey, str]:
        """Give a key a new secret (same id, name, scopes, expiry); the old secret dies."""
        key = await self._own(session, principal, key_id)
        if key.expires_at is not None and key.expires_at <= utcnow():
            raise Unprocessable("An expired API key cannot be rotated; create a new one.")
        raw, prefix, key_hash = generate_api_key(marker)
        key.prefix, key.key_hash = prefix, key_hash
        await session.commit()
        return key, raw

    async def authenticate(self, session: AsyncSession, raw_key: str) -> Principal:
        """The principal of a valid key; 401 when unknown, revoked, expired or owner gone.

        Records ``last_used_at`` at most once a minute, committing that small write.
        """
        repo = ApiKeyRepository(session)
        key = await repo.get_by_hash(sha256_hex(raw_key))
        now = utcnow()
        if (
            key is None
            or key.revoked_at is not None
            or (key.expires_at is not None and key.expires_at <= now)
        ):
            raise Unauthorized(INVALID_KEY)
        user = await UserRepository(session).get(key.user_id)
        if user is None or not user.is_active:
            raise Unauthorized(INVALID_KEY)
        # The row just read says whether a write is due: most requests of a busy key skip
        # the UPDATE entirely (on SQLite even a no-op UPDATE takes the write lock); the
        # UPDATE's own condition still keeps concurrent requests to one write per interval.
        if _touch_due(key.last_used_at, now) and await repo.touch(
            key.id, now, LAST_USED_RESOLUTION_S
        ):
            await session.commit()
            # Reflect the write without marking the attribute dirty (no second UPDATE).
            set_committed_value(key, "last_used_at", now)
        return Principal.for_api_key(user, key)


api_keys = ApiKeyService()
