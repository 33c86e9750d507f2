"""Secrets at rest (webhook signing secrets, Slack webhook URLs), encrypted with Fernet.

A product needs these secrets back in clear to sign a delivery or call Slack, so they cannot be
hashed; they are encrypted with AES-128-CBC + HMAC-SHA256 (Fernet) under a key derived from
the kit's ``secret_key`` by HKDF with a purpose label, so a database dump alone reveals
nothing and no other use of ``secret_key`` shares the key. Rotating ``secret_key`` makes the
stored secrets unreadable: deliveries then fail with a clear error until they are re-entered.
"""

from __future__ import annotations

import base64

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

#: The HKDF label of a product that names none; a product whose secrets were stored under
#: another label passes that one (changing it makes the stored secrets unreadable).
DEFAULT_PURPOSE = b"forgekit.webhooks.secrets.v1"


class SecretUnreadableError(Exception):
    """A stored secret cannot be decrypted (``secret_key`` changed, or the value is corrupt)."""


class SecretBox:
    """Encrypts and decrypts short secrets with a key derived from the deployment's secret."""

    def __init__(self, secret_key: str, purpose: bytes = DEFAULT_PURPOSE) -> None:
        key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose).derive(
            secret_key.encode()
        )
        self._fernet = Fernet(base64.urlsafe_b64encode(key))

    def encrypt(self, plaintext: str) -> str:
        """The token (ASCII) for ``plaintext``; two calls give different tokens."""
        return self._fernet.encrypt(plaintext.encode()).decode("ascii")

    def decrypt(self, token: str) -> str:
        """The plaintext of ``token``; raises :class:`SecretUnreadableError` if it is not ours."""
        try:
            return self._fernet.decrypt(token.encode("ascii")).decode()
        except (InvalidToken, UnicodeError) as exc:
            raise SecretUnreadableError("stored secret cannot be decrypted") from exc
