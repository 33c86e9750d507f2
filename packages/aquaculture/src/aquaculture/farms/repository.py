"""Queries of farms, sites and tanks."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import and_, select

from aquaculture.farms.models import Farm, Site, Tank
from forgekit.db.repository import Repository
from forgekit.identity.models import Team, TeamMember


class FarmRepository(Repository[Farm]):
    """Farms joined with their teams."""

    model = Farm

    async def with_role(
        self, farm_id: uuid.UUID, user_id: uuid.UUID
    ) -> tuple[Farm, Team, str | None] | None:
        """The farm, its live team and ``user_id``'s role there (None: not a member), in one
        query: every farm-scoped request starts here."""
        membership = and_(TeamMember.team_id == Farm.id, TeamMember.user_id == user_id)
        row = (
            await self.session.execute(
                select(Farm, Team, TeamMember.role)
                .join(Team, Team.id == Farm.id)
                .outerjoin(TeamMember, membership)
                .where(Farm.id == farm_id, Team.deleted_at.is_(None))
            )
        ).first()
        return (row[0], row[1], row[2]) if row else None

    async def for_member(self, user_id: uuid.UUID) -> Sequence[tuple[Farm, Team, str]]:
        """The farms a user belongs to, with their role, oldest first."""
        rows = await self.session.execute(
            select(Farm, Team, TeamMember.role)
            .join(Team, Team.id == Farm.id)
            .join(TeamMember, TeamMember.team_id == Team.id)
            .where(TeamMember.user_id == user_id, Team.deleted_at.is_(None))
            .order_by(Farm.created_at, Farm.id)
        )
        return [(f, t, r) for f, t, r in rows.all()]


class SiteRepository(Repository[Site]):
    """Sites of a farm."""

    model = Site

    async def of_farm(self, farm_id: uuid.UUID) -> Sequence[Site]:
        """A farm's sites by name."""
        return await self.all(select(Site).where(Site.farm_id == farm_id).order_by(Site.name))


class TankRepository(Repository[Tank]):
    """Tanks of a farm."""

    model = Tank

    async def of_farm(self, farm_id: uuid.UUID, site_id: uuid.UUID | None = None) -> Sequence[Tank]:
        """A farm's tanks (of one site when given) by name."""
        stmt = select(Tank).where(Tank.farm_id == farm_id)
        if site_id is not None:
            stmt = stmt.where(Tank.site_id == site_id)
        return await self.all(stmt.order_by(Tank.name, Tank.id))
