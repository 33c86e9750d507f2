"""Signed webhooks and a logged delivery with retries, for any product.

- :mod:`~forgekit.webhooks.signing`: ``t=<unix>,v1=<hex HMAC-SHA256(secret, "t.body")>``
  signatures under the product's header names (:class:`WebhookHeaders`), and verification;
- :mod:`~forgekit.webhooks.netguard`: the SSRF guard for user-supplied URLs;
- :mod:`~forgekit.webhooks.outbound`: the HTTP client that connects to the vetted address,
  with tight timeouts and a bounded response;
- :mod:`~forgekit.webhooks.secretbox`: encryption of stored secrets (signing secrets, Slack
  URLs) under a key derived from the kit's ``secret_key``;
- :mod:`~forgekit.webhooks.models` and :mod:`~forgekit.webhooks.repository`: the delivery
  log's columns as mixins (each product declares its own tables) and its queries;
- :mod:`~forgekit.webhooks.delivery`: the retry policy and the delivery loop, a background
  service of the runtime;
- :mod:`~forgekit.webhooks.channels`: webhook, email and Slack transports.

A product plans deliveries (rows of its delivery log) in its event consumers' transactions;
the loop sends them. Who is notified of what, and what a message says, stay the product's.

Import from the submodules: this package imports nothing itself, so a product's models (which
need only :mod:`~forgekit.webhooks.models`) load without the HTTP, mail and crypto stacks.
"""
