"""Who must use MFA: the product decides (roles and permissions in settings)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from forgekit.identity.rbac import role_has
from forgekit.settings import ForgeSettings


@dataclass(frozen=True)
class MfaPolicy:
    """Holders of ``roles``, or of any of ``permissions``, must have a confirmed factor.

    ``admin`` holds every permission, so naming any permission also covers administrators.
    """

    roles: frozenset[str] = frozenset()
    permissions: tuple[str, ...] = ()

    @classmethod
    def from_settings(cls, settings: ForgeSettings) -> MfaPolicy:
        """The policy of a deployment (the product's declaration, or ``FORGE_MFA_REQUIRED_*``)."""
        return cls(frozenset(settings.mfa_required_roles), tuple(settings.mfa_required_permissions))

    def requires(self, role: str) -> bool:
        """True when an account with global ``role`` must use MFA."""
        return role in self.roles or _grants_any(role, self.permissions)


def _grants_any(role: str, permissions: Iterable[str]) -> bool:
    for permission in permissions:
        try:
            if role_has(role, permission):
                return True
        except ValueError:
            # A role or permission this process does not know grants nothing.
            continue
    return False
