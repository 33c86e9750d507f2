"""The payment port over Stripe's HTTP API (v1 paths, form-encoded bodies, JSON answers).

Speaks plain HTTP through httpx rather than the ``stripe`` SDK so the same code runs against
Stripe and against :mod:`forgekit.payments.fake` (which serves the same paths), and so every
POST carries the caller's ``Idempotency-Key``. ``max_retries`` retries only what is retryable
(timeouts, connection errors, 429, 5xx) with the same key, as Stripe's own clients do.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from types import TracebackType
from typing import Any, TypeVar
from urllib.parse import urlencode

import httpx
from pydantic import BaseModel

from forgekit.payments.errors import (
    AuthenticationFailed,
    CardDeclined,
    IdempotencyConflict,
    InvalidRequest,
    PaymentError,
    ProviderUnavailable,
    TransferFailed,
)
from forgekit.payments.forms import encode
from forgekit.payments.objects import (
    Account,
    Customer,
    Invoice,
    InvoiceItem,
    PaymentIntent,
    PaymentMethod,
    Price,
    Refund,
    Subscription,
    Transfer,
)
from forgekit.payments.port import CaptureMethod, Interval, Metadata, ProrationBehavior

M = TypeVar("M", bound=BaseModel)

STRIPE_API = "https://api.stripe.com"
#: Pinned so that answers keep the shape the models declare (top-level subscription periods).
STRIPE_VERSION = "2024-06-20"


class StripeAdapter:
    """:class:`~forgekit.payments.port.PaymentProvider` over Stripe's API (or the fake)."""

    def __init__(
        self,
        base_url: str = STRIPE_API,
        api_key: str = "",
        timeout_s: float = 30.0,
        *,
        max_retries: int = 0,
        retry_backoff_s: float = 0.2,
        client: httpx.AsyncClient | None = None,
    ) -> None:
        self._client = client or httpx.AsyncClient(base_url=base_url.rstrip("/"))
        self._owns_client = client is None
        self._headers = {
            "Authorization": f"Bearer {api_key}",
            "Stripe-Version": STRIPE_VERSION,
        }
        self._timeout = httpx.Timeout(timeout_s)
        self._max_retries = max_retries
        self._backoff_s = retry_backoff_s

    async def aclose(self) -> None:
        """Close the HTTP client (when the adapter made it)."""
        if self._owns_client:
            await self._client.aclose()

    async def __aenter__(self) -> StripeAdapter:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    # -- customers and payment methods -------------------------------------------------------

    async def create_customer(
        self,
        email: str,
        name: str | None = None,
        metadata: Metadata | None = None,
        *,
        idempotency_key: str,
    ) -> Customer:
        """A new customer."""
        params = {"email": email, "name": name, "metadata": metadata}
        return await self._post(Customer, "/v1/customers", params, idempotency_key)

    async def attach_payment_method(
        self, customer_id: str, payment_method: str, *, idempotency_key: str
    ) -> PaymentMethod:
        """Attach ``payment_method`` and make it the customer's invoice default."""
        path = f"/v1/payment_methods/{payment_method}/attach"
        method = await self._post(PaymentMethod, path, {"customer": customer_id}, idempotency_key)
        await self._post(
            Customer,
            f"/v1/customers/{customer_id}",
            {"invoice_settings": {"default_payment_method": method.id}},
            f"{idempotency_key}:default",
        )
        return method

    # -- payment intents and refunds ---------------------------------------------------------

    async def create_payment_intent(
        self,
        amount: int,
        currency: str,
        customer_id: str | None = None,
        payment_method: str | None = None,
        capture_method: CaptureMethod = "automatic",
        confirm: bool = True,
        metadata: Metadata | None = None,
        *,
        idempotency_key: str,
    ) -> PaymentIntent:
        """Create (and by default confirm) a payment intent; raises ``CardDeclined``."""
        params = {
            "amount": amount,
            "currency": currency.lower(),
            "customer": customer_id,
            "payment_method": payment_method,
            "capture_method": capture_method,
            "confirm": confirm if payment_method else None,
            "metadata": metadata,
            "payment_method_types": ["card"],
        }
        return await self._post(PaymentIntent, "/v1/payment_intents", params, idempotency_key)

    async def capture_payment_intent(
        self, id: str, amount_to_capture: int | None = None, *, idempotency_key: str
    ) -> PaymentIntent:
        """Capture an authorised intent, all of it or ``amount_to_capture``."""
        path = f"/v1/payment_intents/{id}/capture"
        params = {"amount_to_capture": amount_to_capture}
        return await self._post(PaymentIntent, path, params, idempotency_key)

    async def cancel_payment_intent(self, id: str, *, idempotency_key: str) -> PaymentIntent:
        """Cancel an intent that has not succeeded."""
        path = f"/v1/payment_intents/{id}/cancel"
        return await self._post(PaymentIntent, path, {}, idempotency_key)

    async def create_refund(
        self, payment_intent_id: str, amount: int | None = None, *, idempotency_key: str
    ) -> Refund:
        """Refund what remains of a succeeded intent, or ``amount`` of it."""
        params = {"payment_intent": payment_intent_id, "amount": amount}
        return await self._post(Refund, "/v1/refunds", params, idempotency_key)

    # -- prices and subscriptions ------------------------------------------------------------

    async def create_price(
        self,
        product_name: str,
        unit_amount: int,
        currency: str,
        interval: Interval | None = "month",
        *,
        idempotency_key: str,
    ) -> Price:
        """A price of a new product, recurring every ``interval`` unless ``None``."""
        params = {
            "product_data": {"name": product_name},
            "unit_amount": unit_amount,
            "currency": currency.lower(),
            "recurring": {"interval": interval} if interval else None,
        }
        return await self._post(Price, "/v1/prices", params, idempotency_key)

    async def create_subscription(
        self, customer_id: str, price_id: str, *, idempotency_key: str
    ) -> Subscription:
        """Subscribe the customer to ``price_id``."""
        params = {"customer": customer_id, "items": [{"price": price_id}]}
        return await self._post(Subscription, "/v1/subscriptions", params, idempotency_key)

    async def update_subscription(
        self,
        id: str,
        price_id: str,
        proration_behavior: ProrationBehavior = "create_prorations",
        *,
        idempotency_key: str,
    ) -> Subscription:
        """Replace the subscription's price (its single item keeps its id)."""
        current = await self.retrieve_subscription(id)
        params = {
            "items": [{"id": current.items.data[0].id, "price": price_id}],
            "proration_behavior": proration_behavior,
        }
        return await self._post(Subscription, f"/v1/subscriptions/{id}", params, idempotency_key)

    async def cancel_subscription(
        self, id: str, at_period_end: bool = True, *, idempotency_key: str
    ) -> Subscription:
        """Cancel at the period's end (an update) or now (a DELETE)."""
        if at_period_end:
            params = {"cancel_at_period_end": True}
            path = f"/v1/subscriptions/{id}"
            return await self._post(Subscription, path, params, idempotency_key)
        return await self._request(
            Subscription, "DELETE", f"/v1/subscriptions/{id}", None, idempotency_key
        )

    # -- invoices ----------------------------------------------------------------------------

    async def create_invoice_item(
        self,
        customer_id: str,
        amount: int,
        currency: str,
        description: str | None = None,
        metadata: Metadata | None = None,
        *,
        idempotency_key: str,
    ) -> InvoiceItem:
        """A pending amount the customer's next invoice includes."""
        params = {
            "customer": customer_id,
            "amount": amount,
            "currency": currency.lower(),
            "description": description,
            "metadata": metadata,
        }
        return await self._post(InvoiceItem, "/v1/invoiceitems", params, idempotency_key)

    async def create_invoice(
        self, customer_id: str, auto_advance: bool = False, *, idempotency_key: str
    ) -> Invoice:
        """A draft invoice including the customer's pending items (Stripe's default since
        2022-08-01 is to exclude them, so it is asked for explicitly)."""
        params = {
            "customer": customer_id,
            "auto_advance": auto_advance,
            "pending_invoice_items_behavior": "include",
        }
        return await self._post(Invoice, "/v1/invoices", params, idempotency_key)

    async def finalize_invoice(self, id: str, *, idempotency_key: str) -> Invoice:
        """``draft`` → ``open``."""
        return await self._post(Invoice, f"/v1/invoices/{id}/finalize", {}, idempotency_key)

    async def pay_invoice(self, id: str, *, idempotency_key: str) -> Invoice:
        """``open`` → ``paid``; raises ``CardDeclined``."""
        return await self._post(Invoice, f"/v1/invoices/{id}/pay", {}, idempotency_key)

    async def void_invoice(self, id: str, *, idempotency_key: str) -> Invoice:
        """``open`` | ``uncollectible`` → ``void``."""
        return await self._post(Invoice, f"/v1/invoices/{id}/void", {}, idempotency_key)

    async def mark_uncollectible(self, id: str, *, idempotency_key: str) -> Invoice:
        """``open`` → ``uncollectible``."""
        path = f"/v1/invoices/{id}/mark_uncollectible"
        return await self._post(Invoice, path, {}, idempotency_key)

    # -- connected accounts and transfers ---------------------------------------------------

    async def create_account(
        self,
        email: str | None = None,
        country: str = "US",
        metadata: Metadata | None = None,
        *,
        idempotency_key: str,
    ) -> Account:
        """A connected ``express`` account that can receive transfers."""
        params = {"type": "express", "email": email, "country": country, "metadata": metadata}
        return await self._post(Account, "/v1/accounts", params, idempotency_key)

    async def create_transfer(
        self,
        amount: int,
        currency: str,
        destination: str,
        transfer_group: str | None = None,
        metadata: Metadata | None = None,
        *,
        idempotency_key: str,
    ) -> Transfer:
        """Pay ``amount`` to ``destination``; a refusal raises :class:`TransferFailed`."""
        params = {
            "amount": amount,
            "currency": currency.lower(),
            "destination": destination,
            "transfer_group": transfer_group,
            "metadata": metadata,
        }
        try:
            transfer = await self._post(Transfer, "/v1/transfers", params, idempotency_key)
        except InvalidRequest as exc:
            refusal = _transfer_failed(exc)
            if refusal is exc:
                raise
            raise refusal from exc
        if transfer.status == "failed":
            message = transfer.failure_message or "the transfer failed"
            raise TransferFailed(message, code=transfer.failure_code, transfer_id=transfer.id)
        return transfer

    # -- retrieval ---------------------------------------------------------------------------

    async def retrieve_customer(self, id: str) -> Customer:
        """The customer."""
        return await self._get(Customer, f"/v1/customers/{id}")

    async def retrieve_payment_method(self, id: str) -> PaymentMethod:
        """The payment method."""
        return await self._get(PaymentMethod, f"/v1/payment_methods/{id}")

    async def retrieve_payment_intent(self, id: str) -> PaymentIntent:
        """The payment intent."""
        return await self._get(PaymentIntent, f"/v1/payment_intents/{id}")

    async def retrieve_refund(self, id: str) -> Refund:
        """The refund."""
        return await self._get(Refund, f"/v1/refunds/{id}")

    async def retrieve_price(self, id: str) -> Price:
        """The price."""
        return await self._get(Price, f"/v1/prices/{id}")

    async def retrieve_subscription(self, id: str) -> Subscription:
        """The subscription."""
        return await self._get(Subscription, f"/v1/subscriptions/{id}")

    async def retrieve_invoice_item(self, id: str) -> InvoiceItem:
        """The invoice item."""
        return await self._get(InvoiceItem, f"/v1/invoiceitems/{id}")

    async def retrieve_invoice(self, id: str) -> Invoice:
        """The invoice."""
        return await self._get(Invoice, f"/v1/invoices/{id}")

    async def retrieve_account(self, id: str) -> Account:
        """The connected account."""
        return await self._get(Account, f"/v1/accounts/{id}")

    async def retrieve_transfer(self, id: str) -> Transfer:
        """The transfer."""
        return await self._get(Transfer, f"/v1/transfers/{id}")

    # -- transport ---------------------------------------------------------------------------

    async def _get(self, model: type[M], path: str) -> M:
        return await self._request(model, "GET", path, None, None)

    async def _post(
        self, model: type[M], path: str, params: Mapping[str, Any], idempotency_key: str
    ) -> M:
        if not idempotency_key:
            raise ValueError("a mutating payment call needs an idempotency key")
        return await self._request(model, "POST", path, params, idempotency_key)

    async def _request(
        self,
        model: type[M],
        method: str,
        path: str,
        params: Mapping[str, Any] | None,
        idempotency_key: str | None,
    ) -> M:
        headers = dict(self._headers)
        if idempotency_key is not None:
            headers["Idempotency-Key"] = idempotency_key
        data = urlencode(encode(params)) if params else None
        attempt = 0
        while True:
            try:
                response = await self._send(method, path, headers, data)
                return model.model_validate(_answer(response))
            except ProviderUnavailable:
                if attempt >= self._max_retries:
                    raise
            attempt += 1
            await asyncio.sleep(self._backoff_s * 2 ** (attempt - 1))

    async def _send(
        self,
        method: str,
        path: str,
        headers: dict[str, str],
        data: str | None,
    ) -> httpx.Response:
        if data is not None:
            headers = {**headers, "Content-Type": "application/x-www-form-urlencoded"}
        try:
            return await self._client.request(
                method, path, headers=headers, content=data, timeout=self._timeout
            )
        except httpx.TimeoutException as exc:
            raise ProviderUnavailable(f"payment provider timed out: {path}") from exc
        except httpx.TransportError as exc:
            raise ProviderUnavailable(f"payment provider unreachable: {exc}") from exc


def _answer(response: httpx.Response) -> dict[str, Any]:
    """The JSON body of a 2xx answer; raises the port's error for any other."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if response.is_success and isinstance(body, dict):
        return body
    raise _error(response, body if isinstance(body, dict) else {})


def _error(response: httpx.Response, body: dict[str, Any]) -> PaymentError:
    """The port's error for a refused request, by Stripe's error ``type`` and status."""
    status = response.status_code
    raw = body.get("error")
    err: dict[str, Any] = raw if isinstance(raw, dict) else {}
    message = str(err.get("message") or f"payment provider answered {status}")
    kwargs: dict[str, Any] = {
        "code": err.get("code"),
        "status": status,
        "body": body,
        "request_id": response.headers.get("request-id"),
    }
    kind = err.get("type")
    if status == 429 or status >= 500 or kind == "api_error":
        return ProviderUnavailable(message, **kwargs)
    if kind == "card_error":
        return _declined(message, err, kwargs)
    if kind == "idempotency_error":
        return IdempotencyConflict(message, **kwargs)
    if status == 401:
        return AuthenticationFailed(message, **kwargs)
    return InvalidRequest(message, **kwargs)


#: Refusals of a well-formed transfer: the money is not there, or the destination is not.
_TRANSFER_REFUSALS = frozenset({"balance_insufficient", "insufficient_funds", "account_invalid"})


def _transfer_failed(exc: InvalidRequest) -> InvalidRequest:
    """A refused transfer as :class:`TransferFailed`, naming the failed transfer when the
    answer does; a malformed request (a bad amount, a missing parameter) stays an
    :class:`InvalidRequest`: a bug to fix, not a payment outcome."""
    raw = exc.body.get("error")
    err: dict[str, Any] = raw if isinstance(raw, dict) else {}
    transfer = err.get("transfer")
    refused = (exc.code in _TRANSFER_REFUSALS or err.get("param") == "destination"
               or isinstance(transfer, dict))  # fmt: skip
    if not refused:
        return exc
    return TransferFailed(
        exc.message, code=exc.code, status=exc.status, request_id=exc.request_id,
        body=exc.body, transfer_id=transfer.get("id") if isinstance(transfer, dict) else None,
    )  # fmt: skip


def _declined(message: str, err: dict[str, Any], kwargs: dict[str, Any]) -> CardDeclined:
    intent = err.get("payment_intent")
    return CardDeclined(
        message,
        decline_code=err.get("decline_code"),
        payment_intent_id=intent.get("id") if isinstance(intent, dict) else None,
        **kwargs,
    )
