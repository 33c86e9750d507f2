"""``/auth/mfa``: the caller's MFA status, TOTP enrolment, recovery codes and disabling.

Completing a login with a code is ``POST /auth/mfa/verify`` (:mod:`forgekit.identity.router`)
or, for a browser, ``POST /auth/session/mfa`` (:mod:`forgekit.identity.browser`).
"""

from __future__ import annotations

from fastapi import APIRouter, Response, status

from forgekit.deps import RuntimeDep, SessionDep
from forgekit.identity.deps import MfaSetupPrincipal
from forgekit.identity.mfa.schemas import MfaCode, MfaEnrolment, MfaRecoveryCodes, MfaStatus
from forgekit.identity.mfa.service import MfaThrottle, mfa

mfa_router = APIRouter(prefix="/auth/mfa", tags=["auth"])


def _throttle(runtime: RuntimeDep) -> MfaThrottle:
    return MfaThrottle(runtime.rate_limiter, runtime.settings)


@mfa_router.get("")
async def mfa_status(
    principal: MfaSetupPrincipal, session: SessionDep, runtime: RuntimeDep
) -> MfaStatus:
    """Whether MFA is on, pending confirmation or required, and recovery codes left."""
    return await mfa.status(session, runtime.settings, principal.user)


@mfa_router.post("/totp", status_code=status.HTTP_201_CREATED)
async def enrol_totp(
    response: Response, principal: MfaSetupPrincipal, session: SessionDep, runtime: RuntimeDep
) -> MfaEnrolment:
    """Start enrolling an authenticator app: scan the QR code, then confirm with a code."""
    response.headers["Cache-Control"] = "no-store"  # the answer holds the secret
    return await mfa.start_enrolment(session, runtime.settings, principal)


@mfa_router.post("/totp/confirm")
async def confirm_totp(
    data: MfaCode, response: Response, principal: MfaSetupPrincipal, session: SessionDep,
    runtime: RuntimeDep,
) -> MfaRecoveryCodes:  # fmt: skip
    """Turn MFA on with a first code; the answer holds the recovery codes, shown only now."""
    response.headers["Cache-Control"] = "no-store"
    codes = await mfa.confirm_enrolment(
        session, runtime.settings, _throttle(runtime), principal, data.code
    )
    return MfaRecoveryCodes(recovery_codes=codes)


@mfa_router.post("/recovery-codes")
async def regenerate_recovery_codes(
    data: MfaCode, response: Response, principal: MfaSetupPrincipal, session: SessionDep,
    runtime: RuntimeDep,
) -> MfaRecoveryCodes:  # fmt: skip
    """Replace the recovery codes (a code is needed); the old ones stop working."""
    response.headers["Cache-Control"] = "no-store"
    codes = await mfa.regenerate_recovery_codes(
        session, runtime.settings, _throttle(runtime), principal, data.code
    )
    return MfaRecoveryCodes(recovery_codes=codes)


@mfa_router.post("/totp/disable", status_code=status.HTTP_204_NO_CONTENT)
async def disable_totp(
    data: MfaCode, principal: MfaSetupPrincipal, session: SessionDep, runtime: RuntimeDep
) -> None:
    """Turn MFA off with a code (not allowed where the product requires MFA)."""
    await mfa.disable(session, runtime.settings, _throttle(runtime), principal, data.code)
