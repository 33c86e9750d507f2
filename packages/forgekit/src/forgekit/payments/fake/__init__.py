"""A Stripe-compatible fake payment provider for tests and local runs.

An ASGI app (:func:`create_app`) serving the ``/v1`` paths :class:`~forgekit.payments.StripeAdapter`
calls, holding state in memory, enforcing idempotency keys, failing on request and sending
signed webhooks. Run it with ``python -m forgekit.payments.fake --port N``; in tests use
:func:`forgekit.testing.payments.fake_provider`.
"""

from forgekit.payments.fake.app import create_app
from forgekit.payments.fake.customers import TEST_CARDS

__all__ = ["TEST_CARDS", "create_app"]
