"""The fake provider's in-memory state: objects by id, a movable clock, events, faults and the
idempotency records. Handlers run synchronously on the event loop, so each request's changes
are atomic with respect to the others (as a row lock would make them at the provider)."""

from __future__ import annotations

import copy
import secrets
import string
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from forgekit.payments.fake.errors import missing

Obj = dict[str, Any]
_ALPHABET = string.ascii_letters + string.digits

#: Seconds per billing interval. The fake bills in fixed-length periods (a "month" is 30
#: days) so that proration amounts are exact in tests; Stripe uses calendar months.
#: The fake's API key and webhook secret unless told others: test values, never real ones.
TEST_API_KEY = "sk_test_forgekit"
TEST_WEBHOOK_SECRET = "whsec_forgekit"  # noqa: S105 (a fixed test value, as TEST_API_KEY)

INTERVAL_SECONDS = {"day": 86_400, "week": 7 * 86_400, "month": 30 * 86_400, "year": 365 * 86_400}


def public(obj: Obj) -> Obj:
    """A deep copy of ``obj`` without the fake's private (``_``-prefixed) fields."""
    return {k: copy.deepcopy(v) for k, v in obj.items() if not k.startswith("_")}


def new_id(prefix: str) -> str:
    """A Stripe-looking id (``cus_…``, ``pi_…``)."""
    return f"{prefix}_{''.join(secrets.choice(_ALPHABET) for _ in range(24))}"


@dataclass
class IdempotentResult:
    """The first answer to an idempotency key, and what it was an answer to."""

    fingerprint: str
    status: int
    body: bytes


@dataclass
class Fault:
    """Fail the next ``remaining`` API calls with ``mode`` (``error``, ``timeout``,
    ``rate_limit``); a timeout hangs ``hang_s`` after doing the work, like a lost answer."""

    mode: str
    remaining: int
    hang_s: float = 30.0


@dataclass
class RequestRecord:
    """One API request the fake answered (for tests asserting what was executed)."""

    method: str
    path: str
    idempotency_key: str | None
    status: int
    replayed: bool


@dataclass
class FakeState:
    """Everything the fake holds."""

    api_key: str = TEST_API_KEY
    webhook_secret: str = TEST_WEBHOOK_SECRET
    require_idempotency_keys: bool = True
    clock_offset_s: int = 0
    objects: dict[str, Obj] = field(default_factory=dict)
    events: list[Obj] = field(default_factory=list)
    idempotency: dict[str, IdempotentResult] = field(default_factory=dict)
    faults: list[Fault] = field(default_factory=list)
    declines_pending: int = 0
    transfer_failures_pending: int = 0
    requests: list[RequestRecord] = field(default_factory=list)
    invoice_sequence: int = 0
    #: Called with each new event (the webhook sender).
    on_event: Callable[[Obj], None] | None = None

    def now(self) -> int:
        """The fake's clock (real time plus what tests advanced it by)."""
        return int(time.time()) + self.clock_offset_s

    def add(self, prefix: str, object_: str, **fields: Any) -> Obj:
        """Store a new object and return it."""
        obj: Obj = {
            "id": new_id(prefix),
            "object": object_,
            "created": self.now(),
            "livemode": False,
            "metadata": {},
        }
        obj.update(fields)
        self.objects[obj["id"]] = obj
        return obj

    def get(self, object_: str, id_: str) -> Obj:
        """The stored object of that kind, or a 404."""
        obj = self.objects.get(id_)
        if obj is None or obj["object"] != object_:
            raise missing(object_, id_)
        return obj

    def all(self, object_: str) -> list[Obj]:
        """Every stored object of a kind, oldest first."""
        return [o for o in self.objects.values() if o["object"] == object_]

    def emit(self, type_: str, obj: Obj) -> Obj:
        """Record an event about ``obj`` (a snapshot) and hand it to the sender."""
        event = {
            "id": new_id("evt"),
            "object": "event",
            "type": type_,
            "created": self.now(),
            "api_version": "2024-06-20",
            "livemode": False,
            "pending_webhooks": 1,
            "data": {"object": public(obj)},
        }
        self.events.append(event)
        if self.on_event is not None:
            self.on_event(event)
        return event

    def take_fault(self) -> Fault | None:
        """The fault the next API call suffers, if one is armed."""
        while self.faults:
            fault = self.faults[0]
            if fault.remaining > 0:
                fault.remaining -= 1
                return fault
            self.faults.pop(0)
        return None

    def take_decline(self) -> bool:
        """True when a charge must be declined on request of a test."""
        if self.declines_pending > 0:
            self.declines_pending -= 1
            return True
        return False

    def take_transfer_failure(self) -> bool:
        """True when a transfer must be refused on request of a test."""
        if self.transfer_failures_pending > 0:
            self.transfer_failures_pending -= 1
            return True
        return False

    def next_invoice_number(self) -> str:
        """``FAKE-0001`` and up."""
        self.invoice_sequence += 1
        return f"FAKE-{self.invoice_sequence:04d}"
