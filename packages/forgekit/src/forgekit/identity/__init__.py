"""Identity: users, JWT sessions, API keys, email verification, password reset, RBAC, teams.

Products import what they need from here and :mod:`forgekit.identity.deps`::

    from forgekit.identity.deps import CurrentPrincipal, require_scopes
    from forgekit.identity.rbac import Permission
"""
