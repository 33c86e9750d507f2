"""Warehouses and stock over HTTP (staff)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, status

from forgekit.deps import SessionDep
from forgekit.identity.deps import require_scopes
from forgekit.identity.principal import Principal
from shop.inventory.schemas import StockAdjust, StockLevel, WarehouseCreate, WarehouseRead
from shop.inventory.service import inventory
from shop.permissions import Permission

router = APIRouter(prefix="/api/v1", tags=["inventory"])

Staff = Annotated[Principal, Depends(require_scopes(Permission.CATALOGUE_MANAGE))]


@router.post("/warehouses", status_code=status.HTTP_201_CREATED)
async def create_warehouse(data: WarehouseCreate, _: Staff, session: SessionDep) -> WarehouseRead:
    """Add a warehouse; lower priority ships first (staff)."""
    return WarehouseRead.model_validate(await inventory.create_warehouse(session, data))


@router.post("/variants/{variant_id}/stock")
async def adjust_stock(
    variant_id: uuid.UUID, data: StockAdjust, _: Staff, session: SessionDep
) -> list[StockLevel]:
    """Receive (+) or write off (-) units in a warehouse (staff)."""
    return await inventory.adjust(session, variant_id, data.warehouse, data.delta)


@router.get("/variants/{variant_id}/stock")
async def stock_levels(variant_id: uuid.UUID, _: Staff, session: SessionDep) -> list[StockLevel]:
    """A variant's stock per warehouse: on hand, reserved, available (staff)."""
    return await inventory.levels(session, variant_id)
