"""Review permissions, registered with the kit next to Modelhub's own (``modelhub.permissions``).

Writing a review (and a publisher's answer) is every signed-up user's; moderation is the
kit's ``admin`` role's only (it grants every permission).
"""

from __future__ import annotations

from enum import StrEnum

from forgekit.identity.rbac import register_permissions
from modelhub.permissions import Role


class ReviewPermission(StrEnum):
    """A review permission string (API-key scope)."""

    REVIEW_WRITE = "review:write"
    REVIEW_MODERATE = "review:moderate"


register_permissions(
    list(ReviewPermission),
    {
        Role.CONSUMER: [ReviewPermission.REVIEW_WRITE],
        Role.PUBLISHER: [ReviewPermission.REVIEW_WRITE],
    },
)
