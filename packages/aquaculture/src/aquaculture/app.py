"""Aquaculture's app factory (``uvicorn --factory aquaculture.app:create_app``)."""

from __future__ import annotations

from fastapi import FastAPI

from aquaculture.product import PRODUCT
from aquaculture.settings import AquacultureSettings
from forgekit.settings import ForgeSettings


def create_app(
    kit_settings: ForgeSettings | None = None, settings: AquacultureSettings | None = None
) -> FastAPI:
    """Build the Aquaculture API from settings (environment and ``.env`` by default)."""
    PRODUCT.load_models()
    app = PRODUCT.create_app(kit_settings, settings)
    # Prediction and inference metrics join the kit's on /metrics (set before the lifespan
    # starts the classifier).
    app.state.runtime.metrics_registry = app.state.metrics.registry
    return app
