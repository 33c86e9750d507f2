"""Warehouses and stock in and out."""

from __future__ import annotations

import uuid

from pydantic import BaseModel, ConfigDict, Field

from shop.catalogue.schemas import ChannelCode, Name


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class WarehouseCreate(_Strict):
    """``POST /api/v1/warehouses``."""

    code: ChannelCode
    name: Name
    priority: int = Field(default=100, ge=0, le=10_000)


class WarehouseRead(BaseModel):
    """A warehouse."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    code: str
    name: str
    priority: int


class StockAdjust(_Strict):
    """``POST /api/v1/variants/{id}/stock``: units received (+) or written off (-)."""

    warehouse: ChannelCode
    delta: int = Field(ge=-1_000_000, le=1_000_000)


class StockLevel(BaseModel):
    """A variant's stock in one warehouse."""

    warehouse: str
    on_hand: int
    reserved: int
    available: int
