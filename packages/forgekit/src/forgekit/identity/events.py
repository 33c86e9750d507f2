"""The kit's own event types: identity's account events (consumed by :mod:`.tasks`).

Products declare their own catalogues the same way; the kit names no product's events.
"""

from __future__ import annotations

import uuid
from typing import Final

from pydantic import BaseModel, ConfigDict

from forgekit.events.types import EventType


class AccountEvent(BaseModel):
    """Payload of every account event: who it is about (the mail goes to the current address)."""

    model_config = ConfigDict(frozen=True)

    user_id: uuid.UUID
    email: str
    username: str


USER_REGISTERED: Final = EventType("user.registered", AccountEvent)
USER_VERIFICATION_REQUESTED: Final = EventType("user.verification_requested", AccountEvent)
USER_PASSWORD_RESET_REQUESTED: Final = EventType(
    "user.password_reset_requested", AccountEvent
)
#: MFA turned on or off (for the audit log and any alerting a product adds).
USER_MFA_ENABLED: Final = EventType("user.mfa_enabled", AccountEvent)
USER_MFA_DISABLED: Final = EventType("user.mfa_disabled", AccountEvent)

#: Every event type the kit emits.
KIT_EVENT_TYPES: Final = (
    USER_REGISTERED,
    USER_VERIFICATION_REQUESTED,
    USER_PASSWORD_RESET_REQUESTED,
    USER_MFA_ENABLED,
    USER_MFA_DISABLED,
)
