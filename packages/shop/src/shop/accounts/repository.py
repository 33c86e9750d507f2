"""Address book queries."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from shop.accounts.models import Address, Profile


async def addresses_of(session: AsyncSession, user_id: uuid.UUID) -> Sequence[Address]:
    """A customer's addresses, oldest first."""
    rows = await session.execute(
        select(Address).where(Address.user_id == user_id).order_by(Address.created_at, Address.id)
    )
    return rows.scalars().all()


async def count_of(session: AsyncSession, user_id: uuid.UUID) -> int:
    """How many addresses a customer has."""
    return int(await session.scalar(
        select(func.count()).select_from(Address).where(Address.user_id == user_id)
    ) or 0)  # fmt: skip


async def own_address(
    session: AsyncSession, user_id: uuid.UUID, address_id: uuid.UUID
) -> Address | None:
    """The customer's address ``address_id`` (None when it is not theirs)."""
    return await session.scalar(
        select(Address).where(Address.id == address_id, Address.user_id == user_id)
    )


async def profile_of(session: AsyncSession, user_id: uuid.UUID) -> Profile | None:
    """The customer's profile row (None before they change anything)."""
    return await session.get(Profile, user_id)
