"""TOTP codes (pyotp), recovery codes and the QR code of a provisioning URI.

Codes are accepted for the current 30-second step and one step either side (clock drift
between phone and server); :func:`matching_step` says which step matched, so the caller can
refuse a step already used.
"""

from __future__ import annotations

import hmac
import secrets
import time
from collections.abc import Callable

import pyotp
import segno

#: Where the time comes from (tests pin it to check the window edges exactly).
clock: Callable[[], float] = time.time

#: Steps either side of now that still count.
WINDOW = 1
RECOVERY_CODE_COUNT = 10
# No 0/o, 1/l/i: a code is read off paper and typed.
_RECOVERY_ALPHABET = "23456789abcdefghjkmnpqrstuvwxyz"


def new_secret() -> str:
    """A random base32 secret of 160 bits (RFC 4226's recommended length)."""
    return pyotp.random_base32(32)


def provisioning_uri(secret: str, account: str, issuer: str) -> str:
    """The ``otpauth://totp/…`` URI an authenticator app imports (by QR code or by hand)."""
    return pyotp.TOTP(secret).provisioning_uri(name=account, issuer_name=issuer)


def qr_svg(uri: str) -> str:
    """An inline SVG QR code of ``uri`` (no external image, works offline)."""
    return str(segno.make(uri, error="m").svg_inline(scale=4, border=2))


#: Seconds per step (RFC 6238's default, what every authenticator app uses).
STEP_S = 30


def current_step(now: float | None = None) -> int:
    """The 30-second step of ``now`` (the clock by default)."""
    return int((clock() if now is None else now) // STEP_S)


def code_at(secret: str, step: int) -> str:
    """The six-digit code of ``secret`` at ``step``."""
    return pyotp.TOTP(secret).generate_otp(step)


def matching_step(secret: str, code: str, now: float | None = None) -> int | None:
    """The step within the window whose code is ``code``, or ``None``."""
    code = code.strip().replace(" ", "")
    if len(code) != 6 or not code.isdigit():
        return None
    here = current_step(now)
    for step in range(here - WINDOW, here + WINDOW + 1):
        if hmac.compare_digest(code_at(secret, step), code):
            return step
    return None


def new_recovery_codes() -> list[str]:
    """Ten codes like ``k7m2q-x9v4p`` (50 bits each)."""
    return [_recovery_code() for _ in range(RECOVERY_CODE_COUNT)]


def _recovery_code() -> str:
    raw = "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(10))
    return f"{raw[:5]}-{raw[5:]}"


def normalize_recovery_code(code: str) -> str:
    """The canonical form of a typed recovery code (case, spaces and dashes forgiven)."""
    raw = "".join(c for c in code.lower() if c.isalnum())
    return f"{raw[:5]}-{raw[5:]}" if len(raw) == 10 else raw


def looks_like_totp(code: str) -> bool:
    """True for six digits (spaces forgiven): an authenticator code, not a recovery code."""
    code = code.strip().replace(" ", "")
    return len(code) == 6 and code.isdigit()
