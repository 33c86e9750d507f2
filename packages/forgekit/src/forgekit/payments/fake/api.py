"""The fake's Stripe-compatible ``/v1`` API: auth, idempotency keys, injected faults, routing.

Idempotency as Stripe does it: the first answer to a key is stored (unless it was a server
error, which the caller may retry) and replayed to every repeat with
``Idempotent-Replayed: true``; a repeat with other parameters or another path is refused with
400 ``idempotency_error``.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import Awaitable, Callable
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from forgekit.payments.fake import billing, connect, customers, invoices, payments
from forgekit.payments.fake.errors import FakeError
from forgekit.payments.fake.state import FakeState, IdempotentResult, Obj, RequestRecord, public
from forgekit.payments.forms import decode

Handler = Callable[..., Obj]

#: GET /v1/<collection>/{id} → the object kind stored under that id.
COLLECTIONS = {
    "customers": "customer",
    "payment_methods": "payment_method",
    "payment_intents": "payment_intent",
    "charges": "charge",
    "refunds": "refund",
    "prices": "price",
    "products": "product",
    "subscriptions": "subscription",
    "invoiceitems": "invoiceitem",
    "invoices": "invoice",
    "events": "event",
    "accounts": "account",
    "transfers": "transfer",
}

WRITES: list[tuple[str, str, Handler]] = [
    ("POST", "/v1/customers", customers.create_customer),
    ("POST", "/v1/customers/{id}", customers.update_customer),
    ("POST", "/v1/payment_methods/{id}/attach", customers.attach_payment_method),
    ("POST", "/v1/payment_intents", payments.create_payment_intent),
    ("POST", "/v1/payment_intents/{id}/confirm", payments.confirm_payment_intent),
    ("POST", "/v1/payment_intents/{id}/capture", payments.capture_payment_intent),
    ("POST", "/v1/payment_intents/{id}/cancel", payments.cancel_payment_intent),
    ("POST", "/v1/refunds", payments.create_refund),
    ("POST", "/v1/prices", billing.create_price),
    ("POST", "/v1/subscriptions", billing.create_subscription),
    ("POST", "/v1/subscriptions/{id}", billing.update_subscription),
    ("DELETE", "/v1/subscriptions/{id}", billing.cancel_subscription),
    ("POST", "/v1/invoiceitems", invoices.create_invoice_item),
    ("POST", "/v1/invoices", invoices.create_invoice),
    ("POST", "/v1/invoices/{id}/finalize", invoices.finalize_invoice),
    ("POST", "/v1/invoices/{id}/pay", invoices.pay_invoice),
    ("POST", "/v1/invoices/{id}/void", invoices.void_invoice),
    ("POST", "/v1/invoices/{id}/mark_uncollectible", invoices.mark_uncollectible),
    ("POST", "/v1/accounts", connect.create_account),
    ("POST", "/v1/transfers", connect.create_transfer),
]


def _json(status: int, body: Obj | bytes, headers: dict[str, str] | None = None) -> Response:
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    return Response(content, status, headers=headers, media_type="application/json")


def api_routes(state: FakeState, webhook_endpoint: Handler) -> list[Route]:
    """The ``/v1`` routes over ``state``."""
    routes = [
        Route(path, _write_endpoint(state, handler), methods=[method])
        for method, path, handler in WRITES
    ]
    routes.append(
        Route("/v1/webhook_endpoints", _write_endpoint(state, webhook_endpoint), methods=["POST"])
    )
    routes.append(Route("/v1/{collection}/{id}", _read_endpoint(state), methods=["GET"]))
    return routes


def _authorised(state: FakeState, request: Request) -> bool:
    return request.headers.get("authorization") == f"Bearer {state.api_key}"


Answer = Callable[[Request], Awaitable[Response]]


def _guarded(state: FakeState, answer: Answer) -> Answer:
    """``answer`` behind the API key check and the armed faults: an injected error or rate
    limit answers before any work; a timeout does the work and then holds the answer back,
    as a lost response would."""

    async def endpoint(request: Request) -> Response:
        if not _authorised(state, request):
            error = FakeError(401, "invalid_request_error", "Invalid API Key provided",
                              "api_key_invalid")  # fmt: skip
            return _json(401, error.body())
        fault = state.take_fault()
        if fault is not None and fault.mode in ("error", "rate_limit"):
            status = 500 if fault.mode == "error" else 429
            return _json(status, FakeError(status, "api_error", "Injected fault").body())
        response = await answer(request)
        if fault is not None and fault.mode == "timeout":
            await asyncio.sleep(fault.hang_s)
        return response

    return endpoint


def _read_endpoint(state: FakeState) -> Answer:
    async def answer(request: Request) -> Response:
        kind = COLLECTIONS.get(request.path_params["collection"])
        try:
            if kind is None:
                raise FakeError(404, "invalid_request_error", "Unrecognized request URL")
            obj = state.get(kind, request.path_params["id"])
        except FakeError as exc:
            return _json(exc.status, exc.body())
        return _json(200, public(obj))

    return _guarded(state, answer)


def _fingerprint(request: Request, pairs: list[tuple[str, str]]) -> str:
    text = json.dumps([request.method, request.url.path, sorted(pairs)])
    return hashlib.sha256(text.encode()).hexdigest()


def _write_endpoint(state: FakeState, handler: Handler) -> Answer:
    async def answer(request: Request) -> Response:
        pairs = parse_qsl((await request.body()).decode(), keep_blank_values=True)
        status, body, replayed = _execute(state, request, handler, pairs)
        headers = {"Idempotent-Replayed": "true"} if replayed else {}
        return _json(status, body, headers)

    return _guarded(state, answer)


def _execute(
    state: FakeState, request: Request, handler: Handler, pairs: list[tuple[str, str]]
) -> tuple[int, bytes, bool]:
    """Run ``handler`` once per idempotency key; returns status, body and whether replayed."""
    key = request.headers.get("idempotency-key")
    record = RequestRecord(request.method, request.url.path, key, 0, replayed=False)
    state.requests.append(record)
    fingerprint = _fingerprint(request, pairs)
    if key is None and state.require_idempotency_keys:
        record.status = 400
        error = FakeError(
            400,
            "invalid_request_error",
            "An Idempotency-Key header is required.",
            "idempotency_key_required",
        )
        return 400, json.dumps(error.body()).encode(), False
    previous = state.idempotency.get(key) if key else None
    if previous is not None:
        if previous.fingerprint != fingerprint:
            record.status = 400
            conflict = FakeError(
                400,
                "idempotency_error",
                "Keys for idempotent requests can only be used with the same "
                "parameters they were first used with.",
            )
            return 400, json.dumps(conflict.body()).encode(), False
        record.status, record.replayed = previous.status, True
        return previous.status, previous.body, True
    status, body = _run(state, request, handler, pairs)
    record.status = status
    if key and status < 500:
        state.idempotency[key] = IdempotentResult(fingerprint, status, body)
    return status, body, False


def _run(
    state: FakeState, request: Request, handler: Handler, pairs: list[tuple[str, str]]
) -> tuple[int, bytes]:
    try:
        params = decode(pairs)
        obj = handler(state, params, **request.path_params)
    except FakeError as exc:
        return exc.status, json.dumps(exc.body()).encode()
    except ValueError as exc:
        error = FakeError(400, "invalid_request_error", f"Invalid parameters: {exc}")
        return 400, json.dumps(error.body()).encode()
    return 200, json.dumps(public(obj)).encode()
