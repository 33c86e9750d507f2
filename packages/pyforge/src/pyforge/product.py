"""PyForge declared to the kit: settings, routers, consumers, tables and migrations.

Everything else -- the app, ``serve | worker | migrate``, the runtime's lifecycle -- is the
kit's scaffold (:mod:`forgekit.product`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from forgekit.product import Product, Registration
from pyforge import __version__
from pyforge.db import MIGRATION_DIRS
from pyforge.settings import PyForgeSettings, get_settings

if TYPE_CHECKING:
    from fastapi import APIRouter

    from pyforge.runtime import PyForgeRuntime

DESCRIPTION = (
    "Self-hostable code intelligence for Python: projects, analyses, findings, metrics, "
    f"ML predictions and notifications. Version {__version__}."
)


def _routers() -> Sequence[APIRouter]:
    # Imported when an app is built, so the CLI's analysis commands never load the web stack.
    from pyforge.analyses.router import analyze_router
    from pyforge.analyses.router import router as analyses_router
    from pyforge.branches.router import router as branches_router
    from pyforge.files.router import router as files_router
    from pyforge.files.router import source_router
    from pyforge.notify.router import router as notify_router
    from pyforge.notify.router import webhooks_router, ws_router
    from pyforge.predictions.router import predictions_router
    from pyforge.predictions.router import router as ml_router
    from pyforge.projects.router import router as projects_router
    from pyforge.rules.router import router as rules_router
    from pyforge.web.router import router as web_router

    return [
        projects_router,
        files_router,
        source_router,
        rules_router,
        ml_router,
        predictions_router,
        analyses_router,
        analyze_router,
        branches_router,
        notify_router,
        webhooks_router,
        ws_router,
        web_router,
    ]


def _runtime() -> type[PyForgeRuntime]:
    from pyforge.runtime import PyForgeRuntime

    return PyForgeRuntime


def _consumers() -> Sequence[Registration]:
    from pyforge.analyses import tasks as analyses_tasks
    from pyforge.branches import tasks as branches_tasks
    from pyforge.files import tasks as files_tasks
    from pyforge.notify import tasks as notify_tasks
    from pyforge.predictions import tasks as predictions_tasks

    return [analyses_tasks.register, notify_tasks.register, predictions_tasks.register,
            branches_tasks.register, files_tasks.register]


PRODUCT: Product[PyForgeSettings, PyForgeRuntime] = Product(
    name="pyforge",
    title="PyForge",
    version=__version__,
    description=DESCRIPTION,
    settings=get_settings,
    app_factory="pyforge.app:create_app",
    runtime_class=_runtime,
    routers=_routers,
    consumers=_consumers,
    models="pyforge.models",
    migration_dirs=tuple(MIGRATION_DIRS),
)
