"""Modelhub declared to the kit: settings, routers, consumers, tables and migrations."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import modelhub.permissions  # noqa: F401  (Modelhub's roles, known before any route or sign-up)
from forgekit.product import Product, Registration
from modelhub import __version__
from modelhub.db import MIGRATION_DIRS
from modelhub.reviews import permissions as _review_scopes  # noqa: F401  (likewise)
from modelhub.settings import ModelhubSettings, get_settings

if TYPE_CHECKING:
    from fastapi import APIRouter

    from modelhub.runtime import ModelhubRuntime


def _routers() -> Sequence[APIRouter]:
    from modelhub.analytics.router import router as analytics_router
    from modelhub.billing.router import router as billing_router
    from modelhub.cards.router import router as cards_router
    from modelhub.discovery.router import router as discovery_router
    from modelhub.inference.router import router as inference_router
    from modelhub.jobs.router import router as jobs_router
    from modelhub.purchases.router import router as purchases_router
    from modelhub.registry.router import router as registry_router
    from modelhub.reviews.router import router as reviews_router
    from modelhub.search.router import router as search_router
    from modelhub.uploads.router import router as uploads_router
    from modelhub.usage.router import router as usage_router
    from modelhub.versions.router import router as versions_router

    # Discovery first: its fixed paths (``/models/popular``) are declared before any
    # ``/models/{owner}/...`` template could claim them.
    return [discovery_router, registry_router, uploads_router, versions_router, search_router,
            reviews_router, cards_router, inference_router, jobs_router, usage_router,
            analytics_router, purchases_router, billing_router]  # fmt: skip


def _runtime() -> type[ModelhubRuntime]:
    from modelhub.runtime import ModelhubRuntime

    return ModelhubRuntime


def _consumers() -> Sequence[Registration]:
    from modelhub.billing import local as local_payments
    from modelhub.billing import tasks as billing_tasks
    from modelhub.jobs import tasks as job_tasks
    from modelhub.purchases import saga
    from modelhub.uploads import tasks as upload_tasks
    from modelhub.versions import conversion

    return [upload_tasks.register, conversion.register, job_tasks.register, saga.register,
            billing_tasks.register, local_payments.register]  # fmt: skip


PRODUCT: Product[ModelhubSettings, ModelhubRuntime] = Product(
    name="modelhub",
    title="Modelhub",
    version=__version__,
    description=f"An AI model marketplace: publish, find, try and call models. {__version__}",
    settings=get_settings,
    app_factory="modelhub.app:create_app",
    runtime_class=_runtime,
    routers=_routers,
    consumers=_consumers,
    models="modelhub.models",
    migration_dirs=tuple(MIGRATION_DIRS),
)
