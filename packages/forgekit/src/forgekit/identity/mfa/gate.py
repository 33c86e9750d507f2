"""Holding back the sessions of accounts that must use MFA and have not enrolled yet.

Applied wherever a session credential becomes a principal (the HTTP dependencies and the
WebSocket handshake), so no entrance skips it.
"""

from __future__ import annotations

import dataclasses

from sqlalchemy.ext.asyncio import AsyncSession

from forgekit.errors import Forbidden
from forgekit.identity.mfa.policy import MfaPolicy
from forgekit.identity.mfa.repository import MfaTotpRepository
from forgekit.identity.principal import Principal
from forgekit.settings import ForgeSettings


async def mark_enrolment_required(
    session: AsyncSession, settings: ForgeSettings, principal: Principal
) -> Principal:
    """``principal``, flagged when its account must use MFA and has no confirmed factor."""
    if not MfaPolicy.from_settings(settings).requires(principal.user.role):
        return principal
    if await MfaTotpRepository(session).is_enrolled(principal.user_id):
        return principal
    return dataclasses.replace(principal, mfa_enrolment_required=True)


def refuse_if_held(principal: Principal) -> None:
    """403 ``mfa_enrollment_required`` for a flagged principal."""
    if principal.mfa_enrolment_required:
        raise Forbidden(
            "Multi-factor authentication is required for your account: enrol at "
            "POST /auth/mfa/totp, then confirm with a code.",
            reason="mfa_enrollment_required",
        )
