"""PyForge's app factory (``uvicorn --factory pyforge.app:create_app``)."""

from __future__ import annotations

from fastapi import FastAPI

from forgekit.settings import ForgeSettings
from pyforge.product import PRODUCT
from pyforge.settings import PyForgeSettings


def create_app(
    kit_settings: ForgeSettings | None = None, settings: PyForgeSettings | None = None
) -> FastAPI:
    """Build the PyForge API from settings (environment and ``.env`` by default)."""
    PRODUCT.load_models()
    return PRODUCT.create_app(kit_settings, settings)
