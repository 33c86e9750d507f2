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
    return PRODUCT.create_app(kit_settings, settings)
