"""The operations anyone may call without an account: the storefront's reads."""

from __future__ import annotations

#: ``"METHOD path"`` of every public Shop operation (the route-walking auth test allows them).
PUBLIC_OPERATIONS = frozenset(
    {
        "GET /api/v1/channels",
        "GET /api/v1/categories",
        "GET /api/v1/categories/{category_id}/breadcrumb",
        "GET /api/v1/products/by-slug/{slug}",
        "GET /api/v1/products/{product_id}",
        # Approved reviews and the rating are part of the product page.
        "GET /api/v1/products/{product_id}/reviews",
        "GET /api/v1/products/{product_id}/reviews/sentiment",
        "GET /api/v1/products/{product_id}/images",
        "GET /api/v1/search",
        "GET /api/v1/search/suggest",
        "POST /api/v1/carts",
        # The provider's signature is the credential (verified before anything is read).
        "POST /api/v1/payments/webhook",
        # A guest's order: the signed X-Order-Token of checkout is the credential (checked
        # first; a missing or wrong one is 404).
        "GET /api/v1/guest/orders/{order_id}",
        "POST /api/v1/guest/orders/{order_id}/payment",
        "POST /api/v1/guest/orders/{order_id}/payment/capture",
    }
)
