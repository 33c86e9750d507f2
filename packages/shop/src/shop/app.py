"""Shop's app factory (``uvicorn --factory shop.app:create_app``)."""

from __future__ import annotations

from fastapi import FastAPI

from forgekit.settings import ForgeSettings
from shop.product import PRODUCT
from shop.settings import ShopSettings


def create_app(
    kit_settings: ForgeSettings | None = None, settings: ShopSettings | None = None
) -> FastAPI:
    """Build the Shop API from settings (environment and ``.env`` by default)."""
    PRODUCT.load_models()
    app = PRODUCT.create_app(kit_settings, settings)
    # Fraud scoring and drift metrics join the kit's on /metrics (set before the lifespan
    # starts the ML services).
    app.state.runtime.metrics_registry = app.state.metrics.registry
    return app
