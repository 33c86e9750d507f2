"""Shop's roles and permissions (seed 002): customer (default), staff, and the kit's admin.

Registered with the kit at import. Staff manage the catalogue, orders, refunds and the review
moderation queue; customers browse, keep carts, check out and follow their own orders.
"""

from __future__ import annotations

from enum import StrEnum

from forgekit.identity.rbac import register_permissions


class Permission(StrEnum):
    """A Shop permission string (API-key scope)."""

    #: Carts, checkout, one's own orders, addresses and reviews.
    SHOP = "shop:buy"
    CATALOGUE_MANAGE = "catalogue:manage"
    ORDER_MANAGE = "order:manage"
    REFUND = "order:refund"
    MODERATE = "review:moderate"
    #: The analytics reports (sales, funnel, order value, cohorts) and their CSV exports.
    ANALYTICS = "analytics:read"


class Role(StrEnum):
    """Shop's own global roles (the kit's ``admin`` is the third)."""

    CUSTOMER = "customer"
    STAFF = "staff"


_CUSTOMER = [Permission.SHOP]
_STAFF = [
    *_CUSTOMER,
    Permission.CATALOGUE_MANAGE,
    Permission.ORDER_MANAGE,
    Permission.REFUND,
    Permission.MODERATE,
    Permission.ANALYTICS,
]

register_permissions(list(Permission), {Role.CUSTOMER: _CUSTOMER, Role.STAFF: _STAFF})
