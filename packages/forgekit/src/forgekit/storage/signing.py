"""HMAC-signed, expiring download URLs for :class:`~forgekit.storage.local.LocalStorage`."""

from __future__ import annotations

import hashlib
import hmac
import time

from forgekit.errors import Forbidden


class UrlSigner:
    """Signs ``(key, expiry, filename)`` with HMAC-SHA256 and checks signatures."""

    def __init__(self, secret: str | bytes) -> None:
        secret_bytes = secret.encode() if isinstance(secret, str) else secret
        if len(secret_bytes) < 16:
            # A short secret is guessable offline from any one signed URL.
            raise ValueError("the storage signing key must be at least 16 bytes")
        self._secret = secret_bytes

    def signature(self, key: str, exp: int, filename: str | None) -> str:
        """Hex HMAC of the fields; the key and expiry are fixed-form, so the join is unambiguous."""
        message = f"GET\n{key}\n{exp}\n{filename or ''}".encode()
        return hmac.new(self._secret, message, hashlib.sha256).hexdigest()

    def verify(
        self,
        key: str,
        exp: str | None,
        sig: str | None,
        filename: str | None,
        *,
        now: float | None = None,
    ) -> None:
        """Raise :class:`~forgekit.errors.Forbidden` unless the signature is valid and fresh."""
        if exp is None or sig is None or not exp.isdigit():
            raise Forbidden("The download link is not signed.")
        expected = self.signature(key, int(exp), filename)
        # Constant-time: a byte-by-byte compare would leak how much of a forged MAC was right.
        if not hmac.compare_digest(expected.encode(), sig.encode()):
            raise Forbidden("The download link signature is invalid.")
        if int(exp) < (time.time() if now is None else now):
            raise Forbidden("The download link has expired.")
