"""The order state machine as one transition table (no status ``if``s anywhere else).

    draft ──place──▶ unconfirmed ──confirm──▶ unfulfilled ──fulfil_part──▶ partially_fulfilled
                      │   │                     │    └────────fulfil────────┐      │
                      │   └─expire─▶ expired    │                           ▼      │
                      └─cancel─▶ cancelled ◀────┘ (cancel)              fulfilled ◀┘ (fulfil)
    fulfilled ──return_part──▶ partially_returned ──return──▶ returned (also from fulfilled)

A transition is applied with a conditional update (``WHERE status = <from>``), so two
concurrent moves of one order cannot both succeed; the loser gets 409 problem+json.
"""

from __future__ import annotations

from enum import StrEnum

from forgekit.errors import Conflict


class Status(StrEnum):
    """Where an order is in its life."""

    DRAFT = "draft"
    UNCONFIRMED = "unconfirmed"
    UNFULFILLED = "unfulfilled"
    PARTIALLY_FULFILLED = "partially_fulfilled"
    FULFILLED = "fulfilled"
    CANCELLED = "cancelled"
    EXPIRED = "expired"
    PARTIALLY_RETURNED = "partially_returned"
    RETURNED = "returned"


class Action(StrEnum):
    """What moves an order."""

    PLACE = "place"
    CONFIRM = "confirm"
    EXPIRE = "expire"
    CANCEL = "cancel"
    FULFIL_PART = "fulfil_part"
    FULFIL = "fulfil"
    RETURN_PART = "return_part"
    RETURN = "return"


#: (from, action) -> to. The whole state machine.
TRANSITIONS: dict[tuple[Status, Action], Status] = {
    (Status.DRAFT, Action.PLACE): Status.UNCONFIRMED,
    (Status.DRAFT, Action.CANCEL): Status.CANCELLED,
    (Status.UNCONFIRMED, Action.CONFIRM): Status.UNFULFILLED,
    (Status.UNCONFIRMED, Action.EXPIRE): Status.EXPIRED,
    (Status.UNCONFIRMED, Action.CANCEL): Status.CANCELLED,
    (Status.UNFULFILLED, Action.CANCEL): Status.CANCELLED,
    (Status.UNFULFILLED, Action.FULFIL_PART): Status.PARTIALLY_FULFILLED,
    (Status.UNFULFILLED, Action.FULFIL): Status.FULFILLED,
    (Status.PARTIALLY_FULFILLED, Action.FULFIL_PART): Status.PARTIALLY_FULFILLED,
    (Status.PARTIALLY_FULFILLED, Action.FULFIL): Status.FULFILLED,
    (Status.FULFILLED, Action.RETURN_PART): Status.PARTIALLY_RETURNED,
    (Status.FULFILLED, Action.RETURN): Status.RETURNED,
    (Status.PARTIALLY_RETURNED, Action.RETURN_PART): Status.PARTIALLY_RETURNED,
    (Status.PARTIALLY_RETURNED, Action.RETURN): Status.RETURNED,
}


class IllegalTransition(Conflict):
    """409: the order's status does not allow the action."""

    slug, title = "illegal-transition", "Illegal order transition"


def target(current: str, action: Action) -> Status:
    """The status ``action`` leads to from ``current``, or :class:`IllegalTransition`."""
    found = TRANSITIONS.get((Status(current), action))
    if found is None:
        allowed = sorted(a.value for (s, a) in TRANSITIONS if s == current)
        raise IllegalTransition(
            f"An order that is {current} cannot {action.value}.",
            current_status=current,
            action=action.value,
            allowed=allowed,
        )
    return found
