"""Path parameters shared by several routers.

``/products/by-slug/{slug}`` (the storefront's lookup) and ``/products/{product_id}/...``
have the same depth: with a plain ``{product_id}`` a request to ``/products/by-slug/publish``
would reach the publish route and be refused as "not a UUID" (422) instead of 405, and a
product whose slug is ``images`` or ``reviews`` would be shadowed by those routes. Starlette's
``uuid`` convertor makes a product id match only a UUID, so every URL has one meaning (the
OpenAPI schema still reads ``{product_id}``).
"""

from __future__ import annotations

#: ``{product_id}`` that matches only a UUID (lower-case hex, as the API writes ids).
PRODUCT_ID = "{product_id:uuid}"
