"""Request and response bodies of the MFA endpoints."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class MfaCode(BaseModel):
    """A six-digit authenticator code or a recovery code (``xxxxx-xxxxx``)."""

    code: str = Field(min_length=6, max_length=32)


class MfaVerifyRequest(MfaCode):
    """The second step of a login: the challenge and a code."""

    mfa_token: str = Field(min_length=1, max_length=2048)


class MfaChallengeResponse(BaseModel):
    """What a password login answers for an account with MFA: no session yet."""

    mfa_required: Literal[True] = True
    mfa_token: str = Field(description="POST it with a code to /auth/mfa/verify.")
    expires_in: int = Field(description="Seconds the challenge stays valid.")
    methods: list[str] = Field(default_factory=lambda: ["totp", "recovery_code"])


class MfaEnrolment(BaseModel):
    """A pending authenticator: show the QR code (or the secret), then confirm with a code."""

    secret: str = Field(description="Base32 secret, for typing into an authenticator app.")
    otpauth_uri: str
    qr_svg: str = Field(description="The otpauth URI as an inline SVG QR code.")


class MfaRecoveryCodes(BaseModel):
    """Single-use recovery codes: shown this once, stored only as hashes."""

    recovery_codes: list[str]


class MfaStatus(BaseModel):
    """The caller's MFA state."""

    enabled: bool
    pending: bool
    required: bool
    recovery_codes_remaining: int
