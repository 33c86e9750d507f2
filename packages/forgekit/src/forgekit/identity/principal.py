"""Who is making a request: a user, through a login session or through one of their API keys."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from forgekit.identity.models import ApiKey, User
from forgekit.identity.rbac import (
    KitPermission,
    Role,
    permissions_of,
    role_has,
    scopes_allow,
)
from forgekit.identity.security import TokenClaims


@dataclass(frozen=True, eq=False)
class Principal:
    """The authenticated caller.

    ``scopes`` are the permissions this request may use: the user's global-role permissions
    for a login session; for an API key, the key's scopes narrowed to what the owner's role
    still grants (demoting a user immediately narrows their keys). ``is_admin`` is true only
    when the request may act as an administrator: an admin's session, or an admin's key
    scoped ``admin:*``.
    """

    user: User
    api_key: ApiKey | None
    scopes: frozenset[str]
    is_admin: bool
    #: The verified access token of a login session (None for API keys).
    access: TokenClaims | None = None
    #: The product requires MFA of this account and it has none yet: the session may only
    #: enrol (see :func:`forgekit.identity.deps.get_current_principal`).
    mfa_enrolment_required: bool = False

    @classmethod
    def for_session(cls, user: User, claims: TokenClaims) -> Principal:
        """The principal of a request carrying a valid access token."""
        return cls(
            user=user,
            api_key=None,
            scopes=permissions_of(user.role),
            is_admin=user.role == Role.ADMIN.value,
            access=claims,
        )

    @classmethod
    def for_api_key(cls, user: User, key: ApiKey) -> Principal:
        """The principal of a request carrying a valid API key."""
        scopes = frozenset(s for s in key.scopes if _grantable(user.role, s))
        return cls(
            user=user,
            api_key=key,
            scopes=scopes,
            is_admin=user.role == Role.ADMIN.value and KitPermission.ADMIN_ALL.value in scopes,
        )

    @property
    def user_id(self) -> uuid.UUID:
        """The acting user's id."""
        return self.user.id

    @property
    def is_session(self) -> bool:
        """True for a login session (an access token), False for an API key."""
        return self.api_key is None

    def has(self, *permissions: str) -> bool:
        """True when every permission is within this principal's scopes."""
        return all(scopes_allow(self.scopes, p) for p in permissions)

    def missing(self, *permissions: str) -> list[str]:
        """The permissions of ``permissions`` this principal lacks."""
        return [str(p) for p in permissions if not scopes_allow(self.scopes, p)]

    @property
    def rate_key(self) -> str:
        """The key the rate limiter counts this principal under."""
        return f"key:{self.api_key.id}" if self.api_key is not None else f"user:{self.user.id}"


def _grantable(role: str, scope: str) -> bool:
    try:
        return role_has(role, scope)
    except ValueError:
        # A scope string this version no longer knows grants nothing.
        return False
