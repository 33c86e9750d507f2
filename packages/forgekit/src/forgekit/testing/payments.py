"""The fake payment provider in a subprocess, for tests of code that takes payments.

``with fake_provider() as fake:`` starts ``python -m forgekit.payments.fake`` on a free
loopback port, waits until it answers, and yields a :class:`FakeProvider`: its base URL, API
key and webhook secret, a :meth:`FakeProvider.adapter` factory and :class:`FakeControl` for
faults, the clock and webhooks. A separate process, so a "timeout" fault hangs for real and
the code under test talks HTTP exactly as it would to Stripe. The ``payment_provider``
fixture wraps it for pytest (one fake per test module).
"""

from __future__ import annotations

import contextlib
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from forgekit.payments.fake.state import TEST_API_KEY, TEST_WEBHOOK_SECRET
from forgekit.payments.stripe import StripeAdapter
from forgekit.testing.servers import free_port

__all__ = ["FakeControl", "FakeProvider", "fake_provider", "payment_provider"]


@dataclass(frozen=True)
class FakeControl:
    """The fake's ``/_control`` API (see :mod:`forgekit.payments.fake.app`)."""

    base_url: str

    async def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        async with httpx.AsyncClient(base_url=self.base_url, timeout=10) as client:
            response = await client.request(method, f"/_control/{path}", json=body)
            response.raise_for_status()
            return response.json()

    async def fail_next(self, mode: str, count: int = 1, hang_s: float = 30.0) -> None:
        """The next ``count`` API calls fail with ``mode`` (``error``, ``timeout``,
        ``rate_limit``); ``decline`` declines the next ``count`` charges,
        ``transfer_failure`` refuses the next ``count`` transfers."""
        await self._call("POST", "faults", {"mode": mode, "count": count, "hang_s": hang_s})

    async def reset(self) -> None:
        """Disarm faults and send held webhooks."""
        await self._call("POST", "reset")

    async def advance_clock(self, seconds: int) -> int:
        """Move the fake's time on; subscriptions renew or end. Returns the new time."""
        now: int = (await self._call("POST", "clock", {"advance_s": seconds}))["now"]
        return now

    async def now(self) -> int:
        """The fake's current time."""
        now: int = (await self._call("GET", "health"))["now"]
        return now

    async def register_webhook(self, url: str) -> None:
        """Send every event to ``url`` from now on."""
        await self._call("POST", "webhook_endpoints", {"url": url})

    async def webhooks(
        self, *, hold: bool = False, reverse: bool = False, duplicate: bool = False
    ) -> None:
        """Hold events until :meth:`flush_webhooks`, flush newest first, send each twice."""
        await self._call(
            "POST", "webhooks", {"hold": hold, "reverse": reverse, "duplicate": duplicate}
        )

    async def flush_webhooks(self) -> int:
        """Send the held events; returns how many."""
        sent: int = (await self._call("POST", "webhooks/flush"))["sent"]
        return sent

    async def requests(self) -> list[dict[str, Any]]:
        """Every API request the fake answered: method, path, key, status, replayed."""
        result: list[dict[str, Any]] = await self._call("GET", "requests")
        return result

    async def events(self) -> list[dict[str, Any]]:
        """Every event the fake emitted, oldest first."""
        result: list[dict[str, Any]] = await self._call("GET", "events")
        return result

    async def deliveries(self) -> list[dict[str, Any]]:
        """Every webhook delivery attempt."""
        result: list[dict[str, Any]] = await self._call("GET", "deliveries")
        return result


@dataclass(frozen=True)
class FakeProvider:
    """A running fake provider."""

    base_url: str
    api_key: str
    webhook_secret: str
    control: FakeControl

    def adapter(self, timeout_s: float = 30.0, **kwargs: Any) -> StripeAdapter:
        """A :class:`StripeAdapter` pointed at the fake (a generous call timeout: the fake
        is another process on a possibly busy machine; timeout tests pass their own)."""
        return StripeAdapter(self.base_url, self.api_key, timeout_s, **kwargs)


@contextlib.contextmanager
def fake_provider(
    *,
    api_key: str = TEST_API_KEY,
    webhook_secret: str = TEST_WEBHOOK_SECRET,
    webhook_urls: tuple[str, ...] = (),
    startup_timeout_s: float = 60.0,
) -> Iterator[FakeProvider]:
    """Run the fake in a subprocess for the duration of the block."""
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "forgekit.payments.fake",
        "--port",
        str(port),
        "--api-key",
        api_key,
        "--webhook-secret",
        webhook_secret,
    ]
    for url in webhook_urls:
        command += ["--webhook-url", url]
    process = subprocess.Popen(command)  # noqa: S603 (our own module, fixed arguments)
    base_url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(process, base_url, startup_timeout_s)
        yield FakeProvider(base_url, api_key, webhook_secret, FakeControl(base_url))
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_until_up(process: subprocess.Popen[bytes], base_url: str, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"fake payment provider exited with {process.returncode}")
        try:
            if httpx.get(f"{base_url}/_control/health", timeout=1).is_success:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.05)  # polling a starting process: nothing to wait on but time
    raise TimeoutError(f"fake payment provider did not answer within {timeout_s} s")


@pytest.fixture(scope="module")
def payment_provider() -> Iterator[FakeProvider]:
    """A fake payment provider shared by one test module's tests."""
    with fake_provider() as fake:
        yield fake
