"""Farms, members, sites and tanks over HTTP (rules live in the service)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, status

from aquaculture.farms.schemas import (
    FarmCreate,
    FarmRead,
    MemberAdd,
    MemberRead,
    SiteCreate,
    SiteRead,
    TankCreate,
    TankRead,
)
from aquaculture.farms.service import farms
from aquaculture.permissions import Permission
from forgekit.deps import SessionDep
from forgekit.identity.deps import CurrentPrincipal, require_scopes
from forgekit.identity.principal import Principal

router = APIRouter(prefix="/api/v1/farms", tags=["farms"])

Creator = Annotated[Principal, Depends(require_scopes(Permission.FARM_MANAGE))]


@router.post("", status_code=status.HTTP_201_CREATED)
async def create_farm(data: FarmCreate, principal: Creator, session: SessionDep) -> FarmRead:
    """Create a farm; the caller becomes its admin."""
    return await farms.create(session, principal, data)


@router.get("")
async def list_farms(principal: CurrentPrincipal, session: SessionDep) -> list[FarmRead]:
    """The caller's farms and their role in each."""
    return await farms.list_for(session, principal)


@router.get("/{farm_id}")
async def get_farm(
    farm_id: uuid.UUID, principal: CurrentPrincipal, session: SessionDep
) -> FarmRead:
    """One farm."""
    return await farms.get(session, principal, farm_id)


@router.get("/{farm_id}/members")
async def list_members(
    farm_id: uuid.UUID, principal: CurrentPrincipal, session: SessionDep
) -> list[MemberRead]:
    """A farm's members and their roles."""
    return await farms.members(session, principal, farm_id)


@router.post("/{farm_id}/members", status_code=status.HTTP_201_CREATED)
async def add_member(
    farm_id: uuid.UUID, data: MemberAdd, principal: CurrentPrincipal, session: SessionDep
) -> MemberRead:
    """Add a user as viewer, operator or admin (farm admins only)."""
    return await farms.add_member(session, principal, farm_id, data)


@router.post("/{farm_id}/sites", status_code=status.HTTP_201_CREATED)
async def create_site(
    farm_id: uuid.UUID, data: SiteCreate, principal: CurrentPrincipal, session: SessionDep
) -> SiteRead:
    """Add a site (farm admins)."""
    return SiteRead.model_validate(await farms.create_site(session, principal, farm_id, data))


@router.get("/{farm_id}/sites")
async def list_sites(
    farm_id: uuid.UUID, principal: CurrentPrincipal, session: SessionDep
) -> list[SiteRead]:
    """A farm's sites."""
    return [SiteRead.model_validate(s) for s in await farms.sites(session, principal, farm_id)]


@router.post("/{farm_id}/sites/{site_id}/tanks", status_code=status.HTTP_201_CREATED)
async def create_tank(
    farm_id: uuid.UUID,
    site_id: uuid.UUID,
    data: TankCreate,
    principal: CurrentPrincipal,
    session: SessionDep,
) -> TankRead:
    """Add a tank or pen to a site (farm admins)."""
    tank = await farms.create_tank(session, principal, farm_id, site_id, data)
    return TankRead.model_validate(tank)


@router.get("/{farm_id}/tanks")
async def list_tanks(
    farm_id: uuid.UUID,
    principal: CurrentPrincipal,
    session: SessionDep,
    site_id: uuid.UUID | None = None,
) -> list[TankRead]:
    """A farm's tanks and pens (of one site with ``site_id``)."""
    rows = await farms.tanks(session, principal, farm_id, site_id)
    return [TankRead.model_validate(t) for t in rows]
