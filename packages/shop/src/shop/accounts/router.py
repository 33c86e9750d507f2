"""The signed-in customer's address book and preferences over HTTP."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Response, status

from forgekit.deps import SessionDep
from forgekit.identity.deps import require_scopes
from forgekit.identity.principal import Principal
from shop.accounts.schemas import AddressCreate, AddressRead, PreferencesRead, PreferencesUpdate
from shop.accounts.service import accounts
from shop.permissions import Permission

router = APIRouter(prefix="/api/v1/me", tags=["accounts"])

Customer = Annotated[Principal, Depends(require_scopes(Permission.SHOP))]


@router.get("/addresses")
async def list_addresses(principal: Customer, session: SessionDep) -> list[AddressRead]:
    """The caller's saved addresses, with which are their defaults."""
    return await accounts.addresses(session, principal.user_id)


@router.post("/addresses", status_code=status.HTTP_201_CREATED)
async def add_address(data: AddressCreate, principal: Customer, session: SessionDep) -> AddressRead:
    """Save an address (the first becomes the default shipping and billing address)."""
    return await accounts.add(session, principal.user_id, data)


@router.get("/addresses/{address_id}")
async def get_address(
    address_id: uuid.UUID, principal: Customer, session: SessionDep
) -> AddressRead:
    """One saved address."""
    return await accounts.get(session, principal.user_id, address_id)


@router.put("/addresses/{address_id}")
async def replace_address(
    address_id: uuid.UUID, data: AddressCreate, principal: Customer, session: SessionDep
) -> AddressRead:
    """Replace a saved address (and make it a default when asked)."""
    return await accounts.replace(session, principal.user_id, address_id, data)


@router.delete("/addresses/{address_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_address(
    address_id: uuid.UUID, principal: Customer, session: SessionDep
) -> Response:
    """Delete a saved address (orders keep their own copy)."""
    await accounts.remove(session, principal.user_id, address_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/preferences")
async def get_preferences(principal: Customer, session: SessionDep) -> PreferencesRead:
    """Language, channel (and so currency), marketing opt-in and notification choices."""
    return await accounts.preferences(session, principal.user_id)


@router.patch("/preferences")
async def update_preferences(
    data: PreferencesUpdate, principal: Customer, session: SessionDep
) -> PreferencesRead:
    """Change some preferences."""
    return await accounts.update_preferences(session, principal.user_id, data)
