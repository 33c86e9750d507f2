"""The fake's webhook sender: each event POSTed, signed, to every registered endpoint.

Like the provider, it delivers at least once and in no promised order; tests can make that
visible on purpose: ``hold`` queues events until ``flush``, ``reverse`` flushes newest first,
``duplicate`` sends each event twice. A failed delivery (non-2xx, no answer) is retried with
backoff a few times.
"""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass, field
from typing import Any

import httpx

from forgekit.payments.fake.state import new_id
from forgekit.payments.webhooks import SIGNATURE_HEADER
from forgekit.webhooks.signing import signature_header

log = logging.getLogger("forgekit.payments.fake")

Obj = dict[str, Any]


@dataclass
class Delivery:
    """One attempt to deliver one event to one endpoint."""

    event_id: str
    event_type: str
    url: str
    status: int | None
    attempt: int


@dataclass
class WebhookSender:
    """Signs and sends events; see the module docstring for the test switches."""

    secret: str
    endpoints: dict[str, str] = field(default_factory=dict)
    hold: bool = False
    reverse: bool = False
    duplicate: bool = False
    attempts: int = 4
    backoff_s: float = 0.25
    held: list[Obj] = field(default_factory=list)
    deliveries: list[Delivery] = field(default_factory=list)
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)

    def register(self, url: str) -> Obj:
        """Add an endpoint; returns Stripe's ``webhook_endpoint`` object (with its secret)."""
        endpoint_id = new_id("we")
        self.endpoints[endpoint_id] = url
        return {
            "id": endpoint_id,
            "object": "webhook_endpoint",
            "url": url,
            "secret": self.secret,
            "status": "enabled",
            "enabled_events": ["*"],
        }

    def enqueue(self, event: Obj) -> None:
        """Send ``event`` now, or hold it."""
        if self.hold:
            self.held.append(event)
        else:
            self._send([event])

    def flush(self) -> int:
        """Send the held events, in order (newest first when ``reverse``); returns how many."""
        events, self.held = self.held, []
        if events:
            self._send(list(reversed(events)) if self.reverse else events)
        return len(events)

    def _send(self, events: list[Obj]) -> None:
        """Deliver ``events`` one after the other to each endpoint (each twice when
        ``duplicate``): a list keeps its order, separate calls race like real deliveries."""
        copies = 2 if self.duplicate else 1
        batch = [event for event in events for _ in range(copies)]
        for url in self.endpoints.values():
            task = asyncio.get_running_loop().create_task(self._deliver_all(batch, url))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _deliver_all(self, events: list[Obj], url: str) -> None:
        for event in events:
            await self._deliver(event, url)

    async def _deliver(self, event: Obj, url: str) -> None:
        body = json.dumps(event).encode()
        async with httpx.AsyncClient(timeout=5.0) as client:
            for attempt in range(1, self.attempts + 1):
                status = await self._post(client, url, body)
                self.deliveries.append(Delivery(event["id"], event["type"], url, status, attempt))
                if status is not None and 200 <= status < 300:
                    return
                await asyncio.sleep(self.backoff_s * 2 ** (attempt - 1))
        log.warning("webhook %s to %s gave up after %d attempts", event["id"], url, self.attempts)

    async def _post(self, client: httpx.AsyncClient, url: str, body: bytes) -> int | None:
        # Signed at each attempt, so a retry carries a fresh timestamp as the provider's do.
        headers = {
            "Content-Type": "application/json",
            SIGNATURE_HEADER: signature_header(self.secret, body),
            "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks; forgekit fake)",
        }
        try:
            response = await client.post(url, content=body, headers=headers)
        except httpx.HTTPError:
            return None
        return response.status_code
