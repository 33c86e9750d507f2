"""``python -m forgekit.payments.fake --port N [--webhook-url URL --webhook-secret S]``."""

from __future__ import annotations

import argparse

import uvicorn

from forgekit.payments.fake.app import create_app
from forgekit.payments.fake.state import TEST_API_KEY, TEST_WEBHOOK_SECRET


def main(argv: list[str] | None = None) -> None:
    """Serve the fake provider on loopback until interrupted."""
    parser = argparse.ArgumentParser(prog="python -m forgekit.payments.fake")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=12111)
    parser.add_argument("--api-key", default=TEST_API_KEY)
    parser.add_argument("--webhook-url", action="append", default=[])
    parser.add_argument("--webhook-secret", default=TEST_WEBHOOK_SECRET)
    parser.add_argument(
        "--allow-missing-idempotency-keys",
        action="store_true",
        help="accept POSTs without an Idempotency-Key (Stripe does; the fake refuses by default)",
    )
    args = parser.parse_args(argv)
    app = create_app(
        api_key=args.api_key,
        webhook_secret=args.webhook_secret,
        webhook_urls=args.webhook_url,
        require_idempotency_keys=not args.allow_missing_idempotency_keys,
    )
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
