"""Queries of the MFA tables. Spending a time step or a recovery code is a conditional UPDATE,
so two concurrent requests with the same code cannot both succeed (on SQLite as on
PostgreSQL)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, func, or_, select, update

from forgekit.db import Repository
from forgekit.identity.mfa.models import MfaRecoveryCode, MfaTotp
from forgekit.identity.repository import _rowcount


def _changed(result: object) -> bool:
    return _rowcount(result) == 1


class MfaTotpRepository(Repository[MfaTotp]):
    """The users' authenticators."""

    model = MfaTotp

    async def for_user(self, user_id: uuid.UUID) -> MfaTotp | None:
        """The user's factor, pending or confirmed."""
        return await self.session.get(MfaTotp, user_id)

    async def is_enrolled(self, user_id: uuid.UUID) -> bool:
        """True when the user has a confirmed factor."""
        stmt = select(MfaTotp.user_id).where(
            MfaTotp.user_id == user_id, MfaTotp.confirmed_at.is_not(None)
        )
        return (await self.session.execute(stmt)).first() is not None

    async def drop_pending(self, user_id: uuid.UUID) -> None:
        """Forget an enrolment that was never confirmed."""
        await self.session.execute(
            delete(MfaTotp).where(MfaTotp.user_id == user_id, MfaTotp.confirmed_at.is_(None))
        )

    async def use_step(self, user_id: uuid.UUID, step: int) -> bool:
        """Record ``step`` as used; False when it (or a later one) was used already."""
        result = await self.session.execute(
            update(MfaTotp)
            .where(
                MfaTotp.user_id == user_id,
                or_(MfaTotp.last_used_step.is_(None), MfaTotp.last_used_step < step),
            )
            .values(last_used_step=step)
            .execution_options(synchronize_session=False)
        )
        return _changed(result)

    async def confirm(self, user_id: uuid.UUID, now: datetime) -> bool:
        """Mark a pending factor confirmed; False when it was confirmed already."""
        result = await self.session.execute(
            update(MfaTotp)
            .where(MfaTotp.user_id == user_id, MfaTotp.confirmed_at.is_(None))
            .values(confirmed_at=now)
            .execution_options(synchronize_session=False)
        )
        return _changed(result)

    async def remove(self, user_id: uuid.UUID) -> None:
        """Delete the user's factor and recovery codes."""
        await self.session.execute(delete(MfaTotp).where(MfaTotp.user_id == user_id))
        await self.session.execute(
            delete(MfaRecoveryCode).where(MfaRecoveryCode.user_id == user_id)
        )


class MfaRecoveryCodeRepository(Repository[MfaRecoveryCode]):
    """The users' recovery codes."""

    model = MfaRecoveryCode

    async def replace(self, user_id: uuid.UUID, hashes: Sequence[str]) -> None:
        """Drop the user's codes and store ``hashes`` as the new set."""
        await self.session.execute(
            delete(MfaRecoveryCode).where(MfaRecoveryCode.user_id == user_id)
        )
        self.session.add_all(MfaRecoveryCode(user_id=user_id, code_hash=h) for h in hashes)
        await self.session.flush()

    async def unused(self, user_id: uuid.UUID) -> Sequence[MfaRecoveryCode]:
        """The user's codes not spent yet."""
        stmt = select(MfaRecoveryCode).where(
            MfaRecoveryCode.user_id == user_id, MfaRecoveryCode.used_at.is_(None)
        )
        return await self.all(stmt)

    async def count_unused(self, user_id: uuid.UUID) -> int:
        """How many codes the user has left."""
        stmt = select(func.count()).where(
            MfaRecoveryCode.user_id == user_id, MfaRecoveryCode.used_at.is_(None)
        )
        return int((await self.session.execute(stmt)).scalar_one())

    async def spend(self, code_id: uuid.UUID, now: datetime) -> bool:
        """Mark a code used; False when a concurrent request spent it first."""
        result = await self.session.execute(
            update(MfaRecoveryCode)
            .where(MfaRecoveryCode.id == code_id, MfaRecoveryCode.used_at.is_(None))
            .values(used_at=now)
            .execution_options(synchronize_session=False)
        )
        return _changed(result)
