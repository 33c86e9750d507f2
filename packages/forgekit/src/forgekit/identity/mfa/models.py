"""MFA tables: one TOTP factor per user and their recovery codes.

The TOTP secret must be read back to check codes, so it is encrypted (the kit's
:class:`~forgekit.webhooks.secretbox.SecretBox`, its own key label), not hashed. Recovery
codes are only ever compared, so they are stored as argon2id hashes like passwords.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from forgekit.db.base import Base, UUIDPrimaryKey, utcnow
from forgekit.db.types import UTCDateTime


class MfaTotp(Base):
    """A user's authenticator: pending until ``confirmed_at``, then required at login.

    ``last_used_step`` is the 30-second time step of the last accepted code: a code is
    accepted only for a later step, so a code seen over someone's shoulder is worthless.
    """

    __tablename__ = "mfa_totp"

    user_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    secret_ciphertext: Mapped[str] = mapped_column(Text, nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_used_step: Mapped[int | None] = mapped_column(BigInteger, nullable=True)


class MfaRecoveryCode(UUIDPrimaryKey, Base):
    """One single-use recovery code (argon2id hash) of a user."""

    __tablename__ = "mfa_recovery_codes"

    user_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True
    )
    code_hash: Mapped[str] = mapped_column(String(255), nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
