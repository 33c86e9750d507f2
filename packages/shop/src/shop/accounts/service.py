"""Address book and preferences of the signed-in customer.

The default shipping and billing addresses are foreign keys on the profile row, so "one
default of each kind" holds by construction; deleting an address clears what pointed at it.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from forgekit.errors import NotFound, Unprocessable
from shop.accounts import repository
from shop.accounts.models import Address, Profile
from shop.accounts.schemas import (
    AddressCreate,
    AddressFields,
    AddressRead,
    Notifications,
    PreferencesRead,
    PreferencesUpdate,
)
from shop.catalogue.repository import ChannelRepository

#: A bound on one customer's address book (a form-filling bot should not grow it forever).
MAX_ADDRESSES = 50
ADDRESS_NOT_FOUND = "Address not found."
#: The fields an order keeps of a saved address (what :class:`shop.checkout.schemas.Address`
#: accepts).
ORDER_ADDRESS_FIELDS = ("name", "line1", "line2", "city", "postcode", "country")


async def _profile(session: AsyncSession, user_id: uuid.UUID) -> Profile:
    """The customer's profile, created on first use (a concurrent creation is re-read)."""
    found = await repository.profile_of(session, user_id)
    if found is not None:
        return found
    profile = Profile(user_id=user_id, notifications=Notifications().model_dump())
    session.add(profile)
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError:
        again = await repository.profile_of(session, user_id)
        assert again is not None  # the other transaction made it
        return again
    return profile


def _read(address: Address, profile: Profile | None) -> AddressRead:
    read = AddressRead.model_validate(address)
    read.default_shipping = profile is not None and profile.default_shipping_id == address.id
    read.default_billing = profile is not None and profile.default_billing_id == address.id
    return read


def _set_defaults(profile: Profile, address_id: uuid.UUID, data: AddressCreate) -> None:
    if data.default_shipping:
        profile.default_shipping_id = address_id
    if data.default_billing:
        profile.default_billing_id = address_id


class AccountService:
    """Addresses and preferences."""

    async def addresses(self, session: AsyncSession, user_id: uuid.UUID) -> list[AddressRead]:
        """The customer's address book."""
        profile = await repository.profile_of(session, user_id)
        return [_read(a, profile) for a in await repository.addresses_of(session, user_id)]

    async def get(
        self, session: AsyncSession, user_id: uuid.UUID, address_id: uuid.UUID
    ) -> AddressRead:
        """One of the customer's addresses (404 for anyone else's)."""
        address = await repository.own_address(session, user_id, address_id)
        if address is None:
            raise NotFound(ADDRESS_NOT_FOUND)
        return _read(address, await repository.profile_of(session, user_id))

    async def add(
        self, session: AsyncSession, user_id: uuid.UUID, data: AddressCreate
    ) -> AddressRead:
        """Save an address (the first one becomes both defaults). Commits."""
        count = await repository.count_of(session, user_id)
        if count >= MAX_ADDRESSES:
            raise Unprocessable(f"An address book holds at most {MAX_ADDRESSES} addresses.")
        address = Address(id=uuid.uuid4(), user_id=user_id,
                          **data.model_dump(include=set(AddressFields.model_fields)))  # fmt: skip
        session.add(address)
        await session.flush()
        profile = await _profile(session, user_id)
        first = count == 0
        _set_defaults(profile, address.id, data.model_copy(update={
            "default_shipping": data.default_shipping or first,
            "default_billing": data.default_billing or first,
        }))  # fmt: skip
        await session.commit()
        return _read(address, profile)

    async def replace(
        self, session: AsyncSession, user_id: uuid.UUID, address_id: uuid.UUID,
        data: AddressCreate,
    ) -> AddressRead:  # fmt: skip
        """Replace an address's fields (and make it a default when asked). Commits."""
        address = await repository.own_address(session, user_id, address_id)
        if address is None:
            raise NotFound(ADDRESS_NOT_FOUND)
        for name, value in data.model_dump(include=set(AddressFields.model_fields)).items():
            setattr(address, name, value)
        profile = await _profile(session, user_id)
        _set_defaults(profile, address.id, data)
        await session.commit()
        return _read(address, profile)

    async def remove(
        self, session: AsyncSession, user_id: uuid.UUID, address_id: uuid.UUID
    ) -> None:
        """Delete an address; a default it was is cleared. Commits."""
        address = await repository.own_address(session, user_id, address_id)
        if address is None:
            raise NotFound(ADDRESS_NOT_FOUND)
        profile = await repository.profile_of(session, user_id)
        if profile is not None:
            # Cleared here too, not only by ON DELETE SET NULL: the ORM's copy must agree.
            if profile.default_shipping_id == address_id:
                profile.default_shipping_id = None
            if profile.default_billing_id == address_id:
                profile.default_billing_id = None
        await session.delete(address)
        await session.commit()

    async def preferences(self, session: AsyncSession, user_id: uuid.UUID) -> PreferencesRead:
        """The customer's preferences (defaults before they set any)."""
        profile = await repository.profile_of(session, user_id) or Profile(
            user_id=user_id, language="en", channel=None, marketing_emails=False,
            notifications=Notifications().model_dump(),
        )  # fmt: skip
        return await _preferences_read(session, profile)

    async def update_preferences(
        self, session: AsyncSession, user_id: uuid.UUID, data: PreferencesUpdate
    ) -> PreferencesRead:
        """Change the fields given (422 for an unknown channel). Commits."""
        if (
            data.channel is not None
            and await ChannelRepository(session).by_code(data.channel) is None
        ):
            raise Unprocessable(f"Unknown channel {data.channel!r}.", field="channel")
        profile = await _profile(session, user_id)
        changes = data.model_dump(exclude_unset=True, exclude_none=True)
        for name, value in changes.items():
            setattr(profile, name, value)
        await session.commit()
        return await _preferences_read(session, profile)

    async def order_address(
        self, session: AsyncSession, user_id: uuid.UUID | None, address_id: uuid.UUID | None
    ) -> dict[str, Any] | None:
        """The saved address ``address_id`` (or, with None, the default shipping address) as
        an order keeps it; None when there is none. 404 for someone else's address."""
        if user_id is None:
            if address_id is not None:
                raise Unprocessable("Saved addresses need an account; send shipping_address.")
            return None
        if address_id is None:
            profile = await repository.profile_of(session, user_id)
            address_id = profile.default_shipping_id if profile else None
            if address_id is None:
                return None
        address = await repository.own_address(session, user_id, address_id)
        if address is None:
            raise NotFound(ADDRESS_NOT_FOUND)
        return {name: getattr(address, name) for name in ORDER_ADDRESS_FIELDS}


async def _preferences_read(session: AsyncSession, profile: Profile) -> PreferencesRead:
    channel = await ChannelRepository(session).by_code(profile.channel) if profile.channel else None
    return PreferencesRead(
        language=profile.language,
        channel=profile.channel,
        currency=channel.currency if channel else None,
        marketing_emails=profile.marketing_emails,
        notifications=Notifications.model_validate(profile.notifications or {}),
        default_shipping_address_id=profile.default_shipping_id,
        default_billing_address_id=profile.default_billing_id,
    )


accounts = AccountService()
