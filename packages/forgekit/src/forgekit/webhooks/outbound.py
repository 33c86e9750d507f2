"""Outbound HTTP for webhooks and Slack: SSRF-checked, tight timeouts, bounded responses.

Each request connects to the address :func:`netguard.resolve` vetted, sending the original
``Host`` header and TLS server name (SNI), so certificate checks still apply to the name the
user gave while DNS cannot be consulted a second time. Redirects are not followed (a redirect
could point inside the network), proxies from the environment are ignored, connections are
not kept alive (a pooled TLS connection must never serve another host name on the same
address), and at most ``max_response_bytes`` of a response are read.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from dataclasses import dataclass

import httpx

from forgekit.webhooks.netguard import (
    BlockedDestinationError,
    literal_address,
    parse_url,
    resolve,
)

#: Characters of a response body kept in the delivery log for debugging.
EXCERPT_CHARS = 512
#: The longest ``Retry-After`` honoured; anything longer falls back to the backoff schedule.
MAX_RETRY_AFTER_S = 3600.0
#: The ``User-Agent`` when the product names none (products pass their own, see
#: :meth:`forgekit.webhooks.signing.WebhookHeaders.for_product`).
DEFAULT_USER_AGENT = "Webhooks/1"


@dataclass(frozen=True)
class AttemptResult:
    """The outcome of one delivery attempt, as recorded in the delivery log."""

    ok: bool
    #: True when trying again later may succeed (timeouts, connection errors, 5xx, 429).
    retryable: bool
    status_code: int | None = None
    latency_ms: int = 0
    error: str | None = None
    response_excerpt: str | None = None
    #: The receiver's ``Retry-After`` in seconds, when it sent one we honour.
    retry_after_s: float | None = None

    @classmethod
    def failure(cls, error: str, *, retryable: bool, latency_ms: int = 0) -> AttemptResult:
        """An attempt that got no HTTP response."""
        return cls(ok=False, retryable=retryable, latency_ms=latency_ms, error=error)


def classify(status_code: int) -> tuple[bool, bool]:
    """``(ok, retryable)`` for an HTTP status: 2xx succeed; 429 and 5xx are retried."""
    if 200 <= status_code < 300:
        return True, False
    return False, status_code == 429 or status_code >= 500


def _retry_after(value: str | None) -> float | None:
    if value is None or not value.strip().isdigit():
        return None  # the HTTP-date form is rare for webhooks; the backoff covers it
    seconds = float(value.strip())
    return seconds if seconds <= MAX_RETRY_AFTER_S else None


class OutboundHttp:
    """Posts JSON bodies to user-supplied URLs under the SSRF policy."""

    def __init__(
        self,
        *,
        timeout_s: float,
        max_response_bytes: int,
        allow_private: bool,
        user_agent: str = DEFAULT_USER_AGENT,
    ) -> None:
        self.timeout_s = timeout_s
        self.max_response_bytes = max_response_bytes
        self.allow_private = allow_private
        self.user_agent = user_agent
        self._client: httpx.AsyncClient | None = None

    def _http(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = httpx.AsyncClient(
                timeout=httpx.Timeout(self.timeout_s),
                follow_redirects=False,
                trust_env=False,
                limits=httpx.Limits(max_keepalive_connections=0, max_connections=100),
            )
        return self._client

    async def aclose(self) -> None:
        """Close the underlying client."""
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def post_json(
        self, url: str, body: bytes, headers: Mapping[str, str] | None = None
    ) -> AttemptResult:
        """POST ``body`` to ``url``; never raises for network or HTTP errors."""
        started = time.perf_counter()

        def elapsed() -> int:
            return int((time.perf_counter() - started) * 1000)

        try:
            dest = parse_url(url)
            ip = await resolve(dest, allow_private=self.allow_private)
        except BlockedDestinationError as exc:
            return AttemptResult.failure(f"refused: {exc}", retryable=False)
        except OSError as exc:
            return AttemptResult.failure(f"dns: {exc}", retryable=True, latency_ms=elapsed())
        host = f"[{ip}]" if ip.version == 6 else str(ip)
        request_url = f"{dest.scheme}://{host}:{dest.port}{dest.target}"
        request_headers = {
            "Host": dest.host_header,
            "Content-Type": "application/json",
            "User-Agent": self.user_agent,
            **(headers or {}),
        }
        extensions = {}
        if dest.scheme == "https" and literal_address(dest.host) is None:
            extensions["sni_hostname"] = dest.host
        try:
            # The whole exchange is bounded too: per-operation timeouts alone would let a
            # receiver trickle a byte every few seconds forever.
            async with asyncio.timeout(self.timeout_s * 2):
                async with self._http().stream(
                    "POST", request_url, content=body, headers=request_headers,
                    extensions=extensions,
                ) as response:
                    latency = elapsed()
                    excerpt = await self._read_bounded(response)
        except (httpx.TimeoutException, TimeoutError):
            return AttemptResult.failure("timeout", retryable=True, latency_ms=elapsed())
        except httpx.HTTPError as exc:
            message = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
            return AttemptResult.failure(message, retryable=True, latency_ms=elapsed())
        ok, retryable = classify(response.status_code)
        return AttemptResult(
            ok=ok,
            retryable=retryable,
            status_code=response.status_code,
            latency_ms=latency,
            error=None if ok else f"HTTP {response.status_code}",
            response_excerpt=excerpt,
            retry_after_s=_retry_after(response.headers.get("retry-after")) if retryable else None,
        )

    async def _read_bounded(self, response: httpx.Response) -> str:
        # Raw bytes, not decoded: a small gzip bomb must not inflate past the limit.
        chunks: list[bytes] = []
        size = 0
        async for chunk in response.aiter_raw():
            chunks.append(chunk)
            size += len(chunk)
            if size >= self.max_response_bytes:
                break
        data = b"".join(chunks)[: self.max_response_bytes]
        return data[:EXCERPT_CHARS * 4].decode("utf-8", "replace")[:EXCERPT_CHARS]
