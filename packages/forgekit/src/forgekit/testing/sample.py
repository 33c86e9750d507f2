"""A sample product's permissions for the kit's own tests (the seed's project permissions).

The kit names no product's permissions; its tests declare these the way a product does.
"""

from forgekit.identity.rbac import Role, register_permissions

SAMPLE_PERMISSIONS = (
    "project:read",
    "project:write",
    "project:delete",
    "analysis:run",
    "ml:predict",
)
_VIEWER = ["project:read"]
_DEVELOPER = [*_VIEWER, "project:write", "analysis:run", "ml:predict"]

register_permissions(
    SAMPLE_PERMISSIONS,
    {
        Role.VIEWER: _VIEWER,
        Role.DEVELOPER: _DEVELOPER,
        Role.OWNER: [*_DEVELOPER, "project:delete"],
    },
)
