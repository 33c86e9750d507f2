"""Password hashing (argon2id) and JWT encoding/decoding.

Hashing runs in a worker thread: argon2id is deliberately slow and memory-hard, and on the event
loop it would stall every other request for its duration. The threads form a pool of their own,
one per core: a burst of logins then queues for a core instead of running hundreds of 64 MiB
hashes at once (memory) or occupying the shared thread pool other work needs.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import secrets
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, TypeVar

import jwt
from argon2 import PasswordHasher as _Argon2Hasher
from argon2 import Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from forgekit.db.base import utcnow
from forgekit.settings import ForgeSettings

_T = TypeVar("_T")

# ---------------------------------------------------------------------------------------------
# Passwords

_HASH_POOL = ThreadPoolExecutor(max_workers=os.cpu_count() or 2, thread_name_prefix="argon2")


async def _in_hash_pool(fn: Callable[..., _T], *args: Any) -> _T:
    return await asyncio.get_running_loop().run_in_executor(_HASH_POOL, fn, *args)


class PasswordHasher:
    """argon2id hashing with costs from settings, and rehash detection on login."""

    def __init__(self, *, time_cost: int, memory_kib: int, parallelism: int) -> None:
        self._hasher = _Argon2Hasher(
            time_cost=time_cost,
            memory_cost=memory_kib,
            parallelism=parallelism,
            type=Type.ID,
        )
        self._dummy_hash: str | None = None

    @classmethod
    def from_settings(cls, settings: ForgeSettings) -> PasswordHasher:
        """A hasher with the configured argon2id costs."""
        return cls(
            time_cost=settings.password_hash_time_cost,
            memory_kib=settings.password_hash_memory_kib,
            parallelism=settings.password_hash_parallelism,
        )

    async def hash(self, password: str) -> str:
        """An argon2id hash of ``password`` (PHC string with salt and parameters)."""
        return await _in_hash_pool(self._hasher.hash, password)

    async def verify(self, password_hash: str, password: str) -> bool:
        """True when ``password`` matches; False for a mismatch or an unreadable hash."""
        return await _in_hash_pool(self._verify_sync, password_hash, password)

    def _verify_sync(self, password_hash: str, password: str) -> bool:
        try:
            return self._hasher.verify(password_hash, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, password_hash: str) -> bool:
        """True when the hash was made with other parameters (or another variant) than now."""
        try:
            return self._hasher.check_needs_rehash(password_hash)
        except InvalidHashError:
            return True

    async def verify_dummy(self, password: str) -> None:
        """Spend the time of one verification without a user, so that an unknown username
        answers no faster than a wrong password (no user enumeration by timing)."""
        if self._dummy_hash is None:
            self._dummy_hash = await self.hash(secrets.token_urlsafe(16))
        await self.verify(self._dummy_hash, password)


_hashers: dict[tuple[int, int, int], PasswordHasher] = {}


def password_hasher(settings: ForgeSettings) -> PasswordHasher:
    """The shared hasher for these settings' costs (so its dummy hash is computed once)."""
    key = (
        settings.password_hash_time_cost,
        settings.password_hash_memory_kib,
        settings.password_hash_parallelism,
    )
    hasher = _hashers.get(key)
    if hasher is None:
        hasher = _hashers[key] = PasswordHasher.from_settings(settings)
    return hasher


# ---------------------------------------------------------------------------------------------
# Random secrets


def sha256_hex(value: str) -> str:
    """SHA-256 hex digest: how high-entropy secrets (token ids, API keys) are stored."""
    return hashlib.sha256(value.encode()).hexdigest()


def new_secret(nbytes: int = 32) -> str:
    """A URL-safe random string of ``nbytes`` bytes of entropy."""
    return secrets.token_urlsafe(nbytes)


# ---------------------------------------------------------------------------------------------
# JWT


class TokenType(StrEnum):
    """The ``type`` claim: which endpoint may accept the token."""

    ACCESS = "access"
    REFRESH = "refresh"
    #: The short-lived proof that a password was right, exchanged with a second factor for
    #: a session (:mod:`forgekit.identity.mfa`); no endpoint accepts it as a credential.
    MFA_CHALLENGE = "mfa_challenge"


_REQUIRED_CLAIMS = ["exp", "iat", "jti", "type", "sub"]

#: Tokens are signed with ``settings.secret_key``, a shared secret, so only HMAC fits.
SUPPORTED_ALGORITHMS = frozenset({"HS256", "HS384", "HS512"})


def _algorithm(settings: ForgeSettings) -> str:
    if settings.jwt_algorithm not in SUPPORTED_ALGORITHMS:
        raise ValueError(
            f"FORGE_JWT_ALGORITHM={settings.jwt_algorithm!r} is not supported; "
            f"use one of {sorted(SUPPORTED_ALGORITHMS)}"
        )
    return settings.jwt_algorithm


class InvalidTokenError(Exception):
    """The token is malformed, forged, expired or of the wrong type."""


@dataclass(frozen=True)
class TokenClaims:
    """The verified claims of one of our JWTs."""

    sub: uuid.UUID
    jti: str
    type: TokenType
    issued_at: datetime
    expires_at: datetime
    sid: uuid.UUID


def encode_token(
    settings: ForgeSettings,
    *,
    user_id: uuid.UUID,
    token_type: TokenType,
    session_id: uuid.UUID,
    ttl_s: int,
    now: datetime | None = None,
) -> tuple[str, TokenClaims]:
    """Sign a token for ``user_id``; returns the token and its claims.

    ``sid`` is the refresh-token family (the login session) the token belongs to, so that
    revoking the session also invalidates its outstanding access tokens.
    """
    issued = (now or utcnow()).replace(microsecond=0)
    expires = issued + timedelta(seconds=ttl_s)
    jti = new_secret(24)
    payload: dict[str, Any] = {
        "sub": str(user_id),
        "type": token_type.value,
        "jti": jti,
        "sid": str(session_id),
        "iat": issued,
        "exp": expires,
        "iss": settings.app_name,
    }
    token = jwt.encode(payload, settings.secret_key.get_secret_value(), _algorithm(settings))
    claims = TokenClaims(
        sub=user_id,
        jti=jti,
        type=token_type,
        issued_at=issued,
        expires_at=expires,
        sid=session_id,
    )
    return token, claims


def decode_token(settings: ForgeSettings, token: str, expected: TokenType) -> TokenClaims:
    """Verify ``token``'s signature, expiry, required claims and type.

    The algorithm list is pinned to the configured one: a token that names ``none`` or another
    algorithm (the classic HS/RS confusion) is refused before its signature is looked at.
    """
    try:
        payload = jwt.decode(
            token,
            settings.secret_key.get_secret_value(),
            algorithms=[_algorithm(settings)],
            issuer=settings.app_name,
            options={"require": [*_REQUIRED_CLAIMS, "iss"], "verify_signature": True},
        )
    except jwt.PyJWTError as exc:
        raise InvalidTokenError(str(exc)) from exc
    if payload.get("type") != expected.value:
        raise InvalidTokenError(f"expected a {expected.value} token")
    try:
        return TokenClaims(
            sub=uuid.UUID(str(payload["sub"])),
            jti=_nonempty_str(payload["jti"]),
            type=expected,
            issued_at=datetime.fromtimestamp(int(payload["iat"]), tz=utcnow().tzinfo),
            expires_at=datetime.fromtimestamp(int(payload["exp"]), tz=utcnow().tzinfo),
            sid=uuid.UUID(str(payload["sid"])),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise InvalidTokenError("malformed claims") from exc


def _nonempty_str(value: object) -> str:
    if not isinstance(value, str) or not value:
        raise ValueError("claim must be a non-empty string")
    return value
