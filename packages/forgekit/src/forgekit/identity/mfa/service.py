"""MFA rules: enrolment, confirmation, the login challenge, verification and disabling.

Every code check goes through :class:`MfaThrottle` (wrong codes per account, reset by a
success) and spends what it accepts: a TOTP time step (never accepted twice, nor an earlier
one after it) or a recovery code. Services commit, as the kit's identity services do.
"""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from forgekit.db.base import utcnow
from forgekit.errors import BadRequest, Conflict, Forbidden, TooManyRequests, Unauthorized
from forgekit.events.outbox import enqueue
from forgekit.events.types import EventType
from forgekit.identity.events import USER_MFA_DISABLED, USER_MFA_ENABLED, AccountEvent
from forgekit.identity.mfa import totp
from forgekit.identity.mfa.models import MfaTotp
from forgekit.identity.mfa.policy import MfaPolicy
from forgekit.identity.mfa.repository import MfaRecoveryCodeRepository, MfaTotpRepository
from forgekit.identity.mfa.schemas import MfaEnrolment, MfaStatus
from forgekit.identity.models import User
from forgekit.identity.principal import Principal
from forgekit.identity.repository import UserRepository
from forgekit.identity.security import (
    InvalidTokenError,
    TokenType,
    decode_token,
    encode_token,
    password_hasher,
)
from forgekit.identity.tokens import INVALID_TOKEN, TokenPair, sessions
from forgekit.ratelimit import RateLimitDecision, RateLimiter, headers, parse_rate
from forgekit.settings import ForgeSettings
from forgekit.webhooks.secretbox import SecretBox, SecretUnreadableError

#: HKDF label of the TOTP secrets' key: no other use of ``secret_key`` shares it.
SECRET_PURPOSE = b"forgekit.identity.mfa.totp.v1"
#: The one answer to a wrong, replayed or expired code.
INVALID_CODE = "Invalid authentication code."


@dataclass(frozen=True)
class MfaChallenge:
    """A password login's answer for an MFA account: the token to complete it with."""

    token: str
    expires_in: int


@dataclass(frozen=True)
class MfaThrottle:
    """Wrong codes per account (``mfa_failures_per_account``); a right code resets it."""

    limiter: RateLimiter
    settings: ForgeSettings

    def _key(self, user_id: uuid.UUID) -> str:
        return f"mfa:account:{user_id}"

    async def check(self, user_id: uuid.UUID) -> None:
        """429 when the account has used up its wrong codes (counts nothing)."""
        if self.settings.rate_limit_enabled:
            rate = parse_rate(self.settings.mfa_failures_per_account)
            _raise_if_denied(await self.limiter.peek(self._key(user_id), rate))

    async def record(self, user_id: uuid.UUID, ok: bool) -> None:
        """Count a wrong code, or forget the wrong codes after a right one."""
        if not self.settings.rate_limit_enabled:
            return
        if ok:
            await self.limiter.reset(self._key(user_id))
        else:
            rate = parse_rate(self.settings.mfa_failures_per_account)
            await self.limiter.hit(self._key(user_id), rate)


def _raise_if_denied(decision: RateLimitDecision) -> None:
    if not decision.allowed:
        retry = max(1, math.ceil(decision.retry_after_s))
        raise TooManyRequests(
            f"Too many wrong codes for this account; retry in {retry} s.",
            headers=headers(decision),
            retry_after=retry,
        )


async def _record(session: AsyncSession, event_type: EventType[AccountEvent], user: User) -> None:
    """Put the change in the outbox, in the transaction that makes it (the audit log's)."""
    payload = AccountEvent(user_id=user.id, email=user.email, username=user.username)
    await enqueue(session, event_type, payload, metadata={"actor_id": str(user.id)})


def _box(settings: ForgeSettings) -> SecretBox:
    return SecretBox(settings.secret_key.get_secret_value(), SECRET_PURPOSE)


def _session_only(principal: Principal) -> None:
    if not principal.is_session:
        raise Forbidden("Manage multi-factor authentication from a login session, not an API key.")


class MfaService:
    """TOTP enrolment and verification."""

    async def status(self, session: AsyncSession, settings: ForgeSettings, user: User) -> MfaStatus:
        """Whether the user has a (pending) factor, must have one, and codes left."""
        factor = await MfaTotpRepository(session).for_user(user.id)
        remaining = await MfaRecoveryCodeRepository(session).count_unused(user.id)
        return MfaStatus(
            enabled=factor is not None and factor.confirmed_at is not None,
            pending=factor is not None and factor.confirmed_at is None,
            required=MfaPolicy.from_settings(settings).requires(user.role),
            recovery_codes_remaining=remaining,
        )

    async def is_enrolled(self, session: AsyncSession, user_id: uuid.UUID) -> bool:
        """True when the user has a confirmed factor."""
        return await MfaTotpRepository(session).is_enrolled(user_id)

    async def start_enrolment(
        self, session: AsyncSession, settings: ForgeSettings, principal: Principal
    ) -> MfaEnrolment:
        """A new secret (replacing an unconfirmed one); 409 when MFA is on already. Commits."""
        _session_only(principal)
        user = principal.user
        factors = MfaTotpRepository(session)
        if await factors.is_enrolled(user.id):
            raise Conflict("Multi-factor authentication is already on; disable it first.")
        secret = totp.new_secret()
        await factors.drop_pending(user.id)
        try:
            await factors.add(
                MfaTotp(user_id=user.id, secret_ciphertext=_box(settings).encrypt(secret))
            )
            await session.commit()
        except IntegrityError:
            await session.rollback()
            raise Conflict("Another enrolment is in progress; try again.") from None
        uri = totp.provisioning_uri(secret, user.email, settings.mfa_issuer or settings.app_name)
        return MfaEnrolment(secret=secret, otpauth_uri=uri, qr_svg=totp.qr_svg(uri))

    async def confirm_enrolment(
        self, session: AsyncSession, settings: ForgeSettings, throttle: MfaThrottle,
        principal: Principal, code: str,
    ) -> list[str]:  # fmt: skip
        """Turn MFA on with a first code; returns the recovery codes (shown once). Commits."""
        _session_only(principal)
        user_id = principal.user_id
        factors = MfaTotpRepository(session)
        factor = await factors.for_user(user_id)
        if factor is None or factor.confirmed_at is not None:
            raise Conflict("No enrolment is waiting for confirmation; start one first.")
        if not await self._check(session, settings, throttle, factor, code, recovery=False):
            raise BadRequest(INVALID_CODE)
        if not await factors.confirm(user_id, utcnow()):
            raise Conflict("The enrolment was confirmed already.")
        codes = await self._new_recovery_codes(session, settings, user_id)
        await _record(session, USER_MFA_ENABLED, principal.user)
        await session.commit()
        return codes

    async def regenerate_recovery_codes(
        self, session: AsyncSession, settings: ForgeSettings, throttle: MfaThrottle,
        principal: Principal, code: str,
    ) -> list[str]:  # fmt: skip
        """A fresh set of recovery codes (the old ones stop working), for a valid code."""
        factor = await self._confirmed_factor(session, principal)
        if not await self._check(session, settings, throttle, factor, code, recovery=True):
            raise BadRequest(INVALID_CODE)
        codes = await self._new_recovery_codes(session, settings, principal.user_id)
        await session.commit()
        return codes

    async def disable(
        self, session: AsyncSession, settings: ForgeSettings, throttle: MfaThrottle,
        principal: Principal, code: str,
    ) -> None:  # fmt: skip
        """Turn MFA off with a valid code; 403 when the product requires it. Commits."""
        factor = await self._confirmed_factor(session, principal)
        if MfaPolicy.from_settings(settings).requires(principal.user.role):
            raise Forbidden("Multi-factor authentication is required for your account.")
        if not await self._check(session, settings, throttle, factor, code, recovery=True):
            raise BadRequest(INVALID_CODE)
        await MfaTotpRepository(session).remove(principal.user_id)
        await _record(session, USER_MFA_DISABLED, principal.user)
        await session.commit()

    def challenge(self, settings: ForgeSettings, user: User) -> MfaChallenge:
        """The challenge a right password earns an MFA account."""
        token, _ = encode_token(
            settings, user_id=user.id, token_type=TokenType.MFA_CHALLENGE,
            session_id=uuid.uuid4(), ttl_s=settings.mfa_challenge_ttl_s,
        )  # fmt: skip
        return MfaChallenge(token=token, expires_in=settings.mfa_challenge_ttl_s)

    async def complete_login(
        self, session: AsyncSession, settings: ForgeSettings, throttle: MfaThrottle,
        mfa_token: str, code: str,
    ) -> TokenPair:  # fmt: skip
        """Exchange a challenge and a valid code for a session. Commits."""
        try:
            claims = decode_token(settings, mfa_token, TokenType.MFA_CHALLENGE)
        except InvalidTokenError:
            raise Unauthorized(INVALID_TOKEN) from None
        user = await UserRepository(session).get(claims.sub)
        factor = await MfaTotpRepository(session).for_user(claims.sub)
        if user is None or not user.is_active or factor is None or factor.confirmed_at is None:
            raise Unauthorized(INVALID_TOKEN)
        if not await self._check(session, settings, throttle, factor, code, recovery=True):
            await session.rollback()
            raise Unauthorized(INVALID_CODE)
        user.last_login_at = utcnow()
        pair = await sessions.issue(session, settings, user)
        await session.commit()
        return pair

    async def _confirmed_factor(self, session: AsyncSession, principal: Principal) -> MfaTotp:
        _session_only(principal)
        factor = await MfaTotpRepository(session).for_user(principal.user_id)
        if factor is None or factor.confirmed_at is None:
            raise Conflict("Multi-factor authentication is not on.")
        return factor

    async def _check(
        self, session: AsyncSession, settings: ForgeSettings, throttle: MfaThrottle,
        factor: MfaTotp, code: str, *, recovery: bool,
    ) -> bool:  # fmt: skip
        """Verify and spend ``code`` (a TOTP code, or a recovery code when allowed)."""
        await throttle.check(factor.user_id)
        if totp.looks_like_totp(code):
            ok = await self._spend_totp(session, settings, factor, code)
        else:
            ok = recovery and await self._spend_recovery(session, settings, factor.user_id, code)
        await throttle.record(factor.user_id, ok)
        return ok

    async def _spend_totp(
        self, session: AsyncSession, settings: ForgeSettings, factor: MfaTotp, code: str
    ) -> bool:
        try:
            secret = _box(settings).decrypt(factor.secret_ciphertext)
        except SecretUnreadableError:
            # secret_key was rotated: the factor cannot be checked; recovery codes still can.
            return False
        step = totp.matching_step(secret, code)
        return step is not None and await MfaTotpRepository(session).use_step(factor.user_id, step)

    async def _spend_recovery(
        self, session: AsyncSession, settings: ForgeSettings, user_id: uuid.UUID, code: str
    ) -> bool:
        typed = totp.normalize_recovery_code(code)
        codes = MfaRecoveryCodeRepository(session)
        hasher = password_hasher(settings)
        for candidate in await codes.unused(user_id):
            if await hasher.verify(candidate.code_hash, typed):
                return await codes.spend(candidate.id, utcnow())
        return False

    async def _new_recovery_codes(
        self, session: AsyncSession, settings: ForgeSettings, user_id: uuid.UUID
    ) -> list[str]:
        codes = totp.new_recovery_codes()
        hasher = password_hasher(settings)
        hashes = [await hasher.hash(c) for c in codes]
        await MfaRecoveryCodeRepository(session).replace(user_id, hashes)
        return codes


mfa = MfaService()
