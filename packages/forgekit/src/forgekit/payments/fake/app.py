"""The fake provider's ASGI app: Stripe's ``/v1`` API plus a ``/_control`` API for tests.

Control endpoints (JSON in, JSON out; no auth, the fake binds to loopback):

- ``GET  /_control/health``
- ``POST /_control/faults`` ``{"mode": "error"|"timeout"|"rate_limit"|"decline"|
  "transfer_failure", "count": N, "hang_s": S}``: the next N API calls fail (``decline``: the
  next N charges are declined; ``transfer_failure``: the next N transfers are refused)
- ``POST /_control/reset``: disarm faults, stop holding webhooks
- ``POST /_control/clock`` ``{"advance_s": N}``: move time on (renews and ends subscriptions)
- ``POST /_control/webhook_endpoints`` ``{"url": U}``: register a receiver
- ``POST /_control/webhooks`` ``{"hold", "reverse", "duplicate"}``, ``POST
  /_control/webhooks/flush``: make delivery order and duplication visible
- ``GET  /_control/deliveries``, ``GET /_control/requests``, ``GET /_control/events``
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from forgekit.payments.fake.api import api_routes
from forgekit.payments.fake.billing import advance_subscriptions
from forgekit.payments.fake.errors import invalid
from forgekit.payments.fake.params import required
from forgekit.payments.fake.sender import WebhookSender
from forgekit.payments.fake.state import TEST_API_KEY, TEST_WEBHOOK_SECRET, FakeState, Fault

_FAULT_MODES = ("error", "timeout", "rate_limit", "decline", "transfer_failure")


def create_app(
    *,
    api_key: str = TEST_API_KEY,
    webhook_secret: str = TEST_WEBHOOK_SECRET,
    webhook_urls: list[str] | None = None,
    require_idempotency_keys: bool = True,
) -> Starlette:
    """A fresh fake provider with its own state."""
    state = FakeState(
        api_key=api_key,
        webhook_secret=webhook_secret,
        require_idempotency_keys=require_idempotency_keys,
    )
    sender = WebhookSender(webhook_secret)
    for url in webhook_urls or []:
        sender.register(url)
    state.on_event = sender.enqueue

    def register_endpoint(state: FakeState, params: dict[str, Any]) -> dict[str, Any]:
        return sender.register(required(params, "url"))

    routes = [*api_routes(state, register_endpoint), *_control_routes(state, sender)]
    app = Starlette(routes=routes)
    app.state.fake = state
    app.state.sender = sender
    return app


async def _body(request: Request) -> dict[str, Any]:
    body = await request.json() if await request.body() else {}
    if not isinstance(body, dict):
        raise invalid("control body must be a JSON object")
    return body


def _control_routes(state: FakeState, sender: WebhookSender) -> list[Route]:
    async def health(request: Request) -> JSONResponse:
        return JSONResponse({"status": "ok", "now": state.now()})

    async def faults(request: Request) -> JSONResponse:
        body = await _body(request)
        mode, count = body.get("mode"), int(body.get("count", 1))
        if mode not in _FAULT_MODES:
            return JSONResponse({"error": f"mode must be one of {_FAULT_MODES}"}, 400)
        if mode == "decline":
            state.declines_pending += count
        elif mode == "transfer_failure":
            state.transfer_failures_pending += count
        else:
            state.faults.append(Fault(mode, count, float(body.get("hang_s", 30.0))))
        return JSONResponse({"armed": mode, "count": count})

    async def reset(request: Request) -> JSONResponse:
        state.faults.clear()
        state.declines_pending = 0
        state.transfer_failures_pending = 0
        sender.hold = sender.reverse = sender.duplicate = False
        return JSONResponse({"sent": sender.flush()})

    async def clock(request: Request) -> JSONResponse:
        state.clock_offset_s += int((await _body(request)).get("advance_s", 0))
        advance_subscriptions(state)
        return JSONResponse({"now": state.now()})

    async def endpoints(request: Request) -> JSONResponse:
        return JSONResponse(sender.register(str((await _body(request))["url"])))

    async def webhooks(request: Request) -> JSONResponse:
        body = await _body(request)
        sender.hold = bool(body.get("hold", sender.hold))
        sender.reverse = bool(body.get("reverse", sender.reverse))
        sender.duplicate = bool(body.get("duplicate", sender.duplicate))
        return JSONResponse(
            {
                "hold": sender.hold,
                "reverse": sender.reverse,
                "duplicate": sender.duplicate,
                "held": len(sender.held),
            }
        )

    async def flush(request: Request) -> JSONResponse:
        return JSONResponse({"sent": sender.flush()})

    async def deliveries(request: Request) -> JSONResponse:
        return JSONResponse([asdict(d) for d in sender.deliveries])

    async def requests(request: Request) -> JSONResponse:
        return JSONResponse([asdict(r) for r in state.requests])

    async def events(request: Request) -> JSONResponse:
        return JSONResponse(state.events)

    return [
        Route("/_control/health", health, methods=["GET"]),
        Route("/_control/faults", faults, methods=["POST"]),
        Route("/_control/reset", reset, methods=["POST"]),
        Route("/_control/clock", clock, methods=["POST"]),
        Route("/_control/webhook_endpoints", endpoints, methods=["POST"]),
        Route("/_control/webhooks", webhooks, methods=["POST"]),
        Route("/_control/webhooks/flush", flush, methods=["POST"]),
        Route("/_control/deliveries", deliveries, methods=["GET"]),
        Route("/_control/requests", requests, methods=["GET"]),
        Route("/_control/events", events, methods=["GET"]),
    ]
