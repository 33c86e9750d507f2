"""PyForge's app factory (``uvicorn --factory pyforge.app:create_app``)."""

from __future__ import annotations

from fastapi import FastAPI

import pyforge.models  # noqa: F401  (complete metadata)
from forgekit.app import create_app as create_forge_app
from forgekit.settings import ForgeSettings
from pyforge import __version__
from pyforge.analyses.router import analyze_router
from pyforge.analyses.router import router as analyses_router
from pyforge.files.router import router as files_router
from pyforge.notify.router import router as notify_router
from pyforge.notify.router import webhooks_router, ws_router
from pyforge.projects.router import router as projects_router
from pyforge.runtime import build_runtime
from pyforge.settings import PyForgeSettings, get_settings

DESCRIPTION = (
    "Self-hostable code intelligence for Python: projects, analyses, findings, metrics, "
    f"ML predictions and notifications. Version {__version__}."
)


def create_app(
    kit_settings: ForgeSettings | None = None, settings: PyForgeSettings | None = None
) -> FastAPI:
    """Build the PyForge API from settings (environment and ``.env`` by default)."""
    settings = settings or get_settings()
    kit = kit_settings or settings.kit()
    return create_forge_app(
        kit,
        title="PyForge",
        description=DESCRIPTION,
        routers=[
            projects_router,
            files_router,
            analyses_router,
            analyze_router,
            notify_router,
            webhooks_router,
            ws_router,
        ],
        consume_events=settings.inprocess_workers,
        runtime=build_runtime(kit, settings),
    )
