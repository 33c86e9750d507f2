"""Aquaculture declared to the kit: settings, routers, consumers, tables and migrations."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import aquaculture.permissions  # noqa: F401  (Aquaculture's roles, known before any route)
from aquaculture import __version__
from aquaculture.db import MIGRATION_DIRS
from aquaculture.settings import AquacultureSettings, get_settings
from forgekit.product import Product, Registration

if TYPE_CHECKING:
    from fastapi import APIRouter

    from aquaculture.runtime import AquacultureRuntime


def _routers() -> Sequence[APIRouter]:
    from aquaculture.farms.router import router as farms_router
    from aquaculture.observations.router import router as observations_router
    from aquaculture.webhooks.router import router as webhooks_router

    return [farms_router, observations_router, webhooks_router]


def _runtime() -> type[AquacultureRuntime]:
    from aquaculture.runtime import AquacultureRuntime

    return AquacultureRuntime


def _consumers() -> Sequence[Registration]:
    from aquaculture.classifier import serving
    from aquaculture.observations import tasks as observation_tasks
    from aquaculture.webhooks import tasks as webhook_tasks

    return [serving.register, observation_tasks.register, webhook_tasks.register]


PRODUCT: Product[AquacultureSettings, AquacultureRuntime] = Product(
    name="aquaculture",
    title="Aquaculture",
    version=__version__,
    description=(
        "Fish-species observations for farms: upload photos of a tank, get the species. "
        "The shipped default model knows SYNTHETIC species only (generated images); train "
        f"one on your own photos with `aquaculture train --data DIR`. {__version__}"
    ),
    settings=get_settings,
    app_factory="aquaculture.app:create_app",
    runtime_class=_runtime,
    routers=_routers,
    consumers=_consumers,
    models="aquaculture.models",
    migration_dirs=tuple(MIGRATION_DIRS),
)
