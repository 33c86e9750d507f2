"""Farms (kit teams), their members, sites and tanks; and the farm access check every
Aquaculture endpoint goes through."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from aquaculture.farms.models import Farm, Site, Tank
from aquaculture.farms.repository import FarmRepository, SiteRepository, TankRepository
from aquaculture.farms.schemas import (
    FarmCreate,
    FarmRead,
    MemberAdd,
    MemberRead,
    SiteCreate,
    TankCreate,
)
from aquaculture.permissions import FARM_ROLE_OF, TEAM_ROLE_OF, FarmRole, Permission
from forgekit.errors import Conflict, Forbidden, NotFound
from forgekit.identity import schemas as kit_schemas
from forgekit.identity.models import Team, TeamMember
from forgekit.identity.principal import Principal
from forgekit.identity.rbac import Role, role_has
from forgekit.identity.service import teams

FARM_NOT_FOUND = "Farm not found."


@dataclass(frozen=True)
class FarmAccess:
    """A farm the caller may act on, and their role there (None: a platform admin)."""

    farm: Farm
    team: Team
    role: str | None


async def authorize(
    session: AsyncSession, principal: Principal, farm_id: uuid.UUID, permission: str
) -> FarmAccess:
    """The farm if the caller may do ``permission`` there.

    404 for an unknown farm and for a farm the caller is no member of (an id reveals
    nothing); 403 when the scope (global role or API key) or the farm role lacks it.
    """
    found = await FarmRepository(session).with_role(farm_id, principal.user_id)
    if found is None or (found[2] is None and not principal.is_admin):
        raise NotFound(FARM_NOT_FOUND)
    farm, team, role = found
    if not principal.has(permission):
        raise Forbidden(f"Missing scope: {permission}.", missing_scopes=[permission])
    if role is not None and not principal.is_admin and not role_has(role, permission):
        shown = FARM_ROLE_OF.get(role, role)
        raise Forbidden(f"Your role in this farm ({shown}) does not allow this.")
    return FarmAccess(farm, team, role)


def _farm_read(farm: Farm, team: Team, role: str | None) -> FarmRead:
    return FarmRead(
        id=farm.id,
        name=team.name,
        description=team.description,
        location=farm.location,
        role=FARM_ROLE_OF.get(role) if role else None,
        created_at=farm.created_at,
    )


class FarmService:
    """Farms, members, sites and tanks."""

    async def create(
        self, session: AsyncSession, principal: Principal, data: FarmCreate
    ) -> FarmRead:
        """A farm (its team, the caller as admin, its row) in one transaction. Commits."""
        team = Team(name=data.name, description=data.description)
        session.add(team)
        await session.flush()
        session.add(TeamMember(team_id=team.id, user_id=principal.user_id, role=Role.OWNER.value))
        farm = Farm(id=team.id, location=data.location)
        session.add(farm)
        await session.commit()
        return _farm_read(farm, team, Role.OWNER.value)

    async def list_for(self, session: AsyncSession, principal: Principal) -> list[FarmRead]:
        """The caller's farms."""
        rows = await FarmRepository(session).for_member(principal.user_id)
        return [_farm_read(f, t, r) for f, t, r in rows]

    async def get(
        self, session: AsyncSession, principal: Principal, farm_id: uuid.UUID
    ) -> FarmRead:
        """One farm (404 to non-members)."""
        access = await authorize(session, principal, farm_id, Permission.FARM_READ)
        return _farm_read(access.farm, access.team, access.role)

    async def add_member(
        self, session: AsyncSession, principal: Principal, farm_id: uuid.UUID, data: MemberAdd
    ) -> MemberRead:
        """Add a user with a farm role (the kit's team membership). Commits."""
        await authorize(session, principal, farm_id, Permission.FARM_READ)
        added = await teams.add_member(
            session,
            principal,
            farm_id,
            kit_schemas.MemberAdd(username=data.username, role=TEAM_ROLE_OF[data.role]),
        )
        return MemberRead(
            user_id=added.user_id,
            username=added.username,
            role=FARM_ROLE_OF.get(added.role, FarmRole.VIEWER),
        )

    async def members(
        self, session: AsyncSession, principal: Principal, farm_id: uuid.UUID
    ) -> list[MemberRead]:
        """A farm's members with their farm roles."""
        await authorize(session, principal, farm_id, Permission.FARM_READ)
        rows = await teams.members(session, principal, farm_id)
        return [
            MemberRead(
                user_id=m.user_id,
                username=m.username,
                role=FARM_ROLE_OF.get(m.role, FarmRole.VIEWER),
            )
            for m in rows
        ]

    async def create_site(
        self, session: AsyncSession, principal: Principal, farm_id: uuid.UUID, data: SiteCreate
    ) -> Site:
        """A new site (409 when the farm has one of that name). Commits."""
        await authorize(session, principal, farm_id, Permission.FARM_MANAGE)
        site = Site(farm_id=farm_id, name=data.name, location=data.location)
        await _add_unique(session, site, "This farm already has a site of that name.")
        return site

    async def sites(
        self, session: AsyncSession, principal: Principal, farm_id: uuid.UUID
    ) -> list[Site]:
        """A farm's sites."""
        await authorize(session, principal, farm_id, Permission.FARM_READ)
        return list(await SiteRepository(session).of_farm(farm_id))

    async def create_tank(
        self,
        session: AsyncSession,
        principal: Principal,
        farm_id: uuid.UUID,
        site_id: uuid.UUID,
        data: TankCreate,
    ) -> Tank:
        """A new tank or pen of a site (404 for a site of another farm). Commits."""
        await authorize(session, principal, farm_id, Permission.FARM_MANAGE)
        site = await session.get(Site, site_id)
        if site is None or site.farm_id != farm_id:
            raise NotFound("Site not found.")
        tank = Tank(site_id=site_id, farm_id=farm_id, name=data.name, kind=data.kind)
        await _add_unique(session, tank, "This site already has a tank of that name.")
        return tank

    async def tanks(
        self,
        session: AsyncSession,
        principal: Principal,
        farm_id: uuid.UUID,
        site_id: uuid.UUID | None = None,
    ) -> list[Tank]:
        """A farm's tanks (of one site when given)."""
        await authorize(session, principal, farm_id, Permission.FARM_READ)
        return list(await TankRepository(session).of_farm(farm_id, site_id))


async def get_tank(session: AsyncSession, farm_id: uuid.UUID, tank_id: uuid.UUID) -> Tank:
    """A tank of the farm (404 for another farm's: no cross-farm references)."""
    tank = await session.get(Tank, tank_id)
    if tank is None or tank.farm_id != farm_id:
        raise NotFound("Tank not found.")
    return tank


async def _add_unique(session: AsyncSession, row: Site | Tank, conflict: str) -> None:
    session.add(row)
    try:
        await session.commit()
    except IntegrityError:
        await session.rollback()
        raise Conflict(conflict) from None


farms = FarmService()
