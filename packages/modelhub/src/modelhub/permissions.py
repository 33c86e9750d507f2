"""Modelhub's roles and permissions (seed 003): consumer (default), publisher, admin.

Registered with the kit at import; the kit's ``admin`` role grants everything. API keys may
also carry per-model inference scopes, ``inference:<owner>/<model>`` or ``inference:<owner>/*``
(a family of the kit's resource scopes), implied by ``model:infer``: a key limited to them
calls those models only; a login session calls any model its role lets it infer.
"""

from __future__ import annotations

from enum import StrEnum

from forgekit.identity.rbac import KitPermission, register_permissions, register_resource_scope


class Permission(StrEnum):
    """A Modelhub permission string (API-key scope)."""

    MODEL_READ = "model:read"
    MODEL_WRITE = "model:write"
    MODEL_PUBLISH = "model:publish"
    MODEL_DELETE = "model:delete"
    #: Call any model's hosted inference (that the caller may see).
    MODEL_INFER = "model:infer"
    #: Staff: refund invoices, read every publisher's ledger and payouts (admins hold it).
    BILLING_MANAGE = "billing:manage"


class Role(StrEnum):
    """Modelhub's own global roles (the kit's ``admin`` is the third)."""

    CONSUMER = "consumer"
    PUBLISHER = "publisher"


_CONSUMER = [
    Permission.MODEL_READ,
    Permission.MODEL_INFER,
    KitPermission.TEAM_READ,
    KitPermission.TEAM_WRITE,
]
_PUBLISHER = [
    *_CONSUMER,
    Permission.MODEL_WRITE,
    Permission.MODEL_PUBLISH,
    Permission.MODEL_DELETE,
    KitPermission.TEAM_MANAGE_MEMBERS,
    KitPermission.TEAM_DELETE,
]

#: The scope family of per-model inference: ``inference:`` + an owner's username + ``/`` + a
#: model name (the registry's slug rules), or ``inference:<owner>/*`` for all their models.
INFERENCE_SCOPE = "inference"
_INFERENCE_RESOURCE = r"[a-z0-9][a-z0-9_.-]{2,63}/[a-z0-9](?:[a-z0-9._-]{0,98}[a-z0-9])?"

register_permissions(list(Permission), {Role.CONSUMER: _CONSUMER, Role.PUBLISHER: _PUBLISHER})
register_resource_scope(INFERENCE_SCOPE, _INFERENCE_RESOURCE, implied_by=Permission.MODEL_INFER)
