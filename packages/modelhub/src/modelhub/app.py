"""Modelhub's app factory (``uvicorn --factory modelhub.app:create_app``)."""

from __future__ import annotations

from fastapi import FastAPI

from forgekit.settings import ForgeSettings
from modelhub.product import PRODUCT
from modelhub.settings import ModelhubSettings


def create_app(
    kit_settings: ForgeSettings | None = None, settings: ModelhubSettings | None = None
) -> FastAPI:
    """Build the Modelhub API from settings (environment and ``.env`` by default)."""
    PRODUCT.load_models()
    return PRODUCT.create_app(kit_settings, settings)
