"""The app factory every product uses: one FastAPI app with the kit's middleware and routers.

A product calls :func:`create_app` with its settings, its routers and a hook that subscribes its
event handlers; the kit adds identity (``/auth``, ``/api/v1/teams``), health probes, ``/metrics``,
signed local-storage downloads, problem+json errors, request ids, metrics and size limits.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import Response
from fastapi.routing import APIRoute

from forgekit import __version__
from forgekit.errors import PROBLEM_RESPONSES, install_error_handlers
from forgekit.identity.browser import browser_router
from forgekit.identity.deps import principal_rate_key
from forgekit.identity.mfa.router import mfa_router
from forgekit.identity.openapi import document_optional_auth
from forgekit.identity.router import auth_router, teams_router
from forgekit.observability.health import router as health_router
from forgekit.observability.logging import configure_logging
from forgekit.observability.metrics import AppMetrics
from forgekit.observability.middleware import BodySizeLimitMiddleware, ObservabilityMiddleware
from forgekit.observability.tracing import configure_tracing
from forgekit.product import register_kit_consumers
from forgekit.ratelimit.http import default_rate_limit
from forgekit.runtime import Runtime, freeze_startup_heap
from forgekit.settings import Environment, ForgeSettings
from forgekit.storage.router import storage_router
from forgekit.text_guard import reject_invalid_text

log = logging.getLogger("forgekit.app")

#: Called with the runtime before it starts, to subscribe a product's event handlers.
SetupHook = Callable[[Runtime], None]


def _operation_id(route: APIRoute) -> str:
    # Stable ids ("tag-route_name") give generated clients readable method names.
    tag = route.tags[0] if route.tags else "default"
    return f"{tag}-{route.name}"


def create_app(
    settings: ForgeSettings,
    *,
    title: str = "Forge",
    description: str = "",
    version: str = __version__,
    routers: Sequence[APIRouter] = (),
    setup: Sequence[SetupHook] = (),
    consume_events: bool = True,
    runtime: Runtime | None = None,
) -> FastAPI:
    """Build the app; backends connect in its lifespan.

    ``consume_events`` runs the event consumers inside the API process (the embedded default);
    a production API process that leaves consuming to workers passes False and only relays.
    """
    configure_logging(settings.log_level, json_lines=settings.log_json)
    if runtime is None:
        runtime = Runtime.from_settings(settings)
        register_kit_consumers(runtime)
    rt = runtime
    for hook in setup:
        hook(rt)
    metrics = AppMetrics(settings.app_name)
    tracer_provider = configure_tracing(settings.app_name, settings.otel_endpoint)
    tracer = tracer_provider.get_tracer("forgekit") if tracer_provider is not None else None

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await rt.start(consume=consume_events)
        if settings.env is not Environment.TEST:
            # Tests build hundreds of apps in one process; freezing there would pin each one's
            # garbage for good.
            freeze_startup_heap()
        log.info("started", extra={"embedded": settings.embedded, "env": settings.env.value})
        try:
            yield
        finally:
            await rt.close()
            if tracer_provider is not None:
                tracer_provider.shutdown()  # flushes the spans still batched

    app = FastAPI(
        title=title,
        description=description,
        version=version,
        lifespan=lifespan,
        generate_unique_id_function=_operation_id,
        responses=PROBLEM_RESPONSES,
        dependencies=[
            Depends(reject_invalid_text),
            *([Depends(default_rate_limit)] if settings.rate_limit_enabled else []),
        ],
    )
    app.state.runtime = rt
    app.state.metrics = metrics
    app.state.rate_limiter = rt.rate_limiter
    app.state.rate_limit_key = principal_rate_key
    install_error_handlers(app)
    document_optional_auth(app)

    app.include_router(health_router)
    app.include_router(auth_router)
    app.include_router(browser_router)
    app.include_router(mfa_router)
    app.include_router(teams_router)
    app.include_router(storage_router)
    for router in routers:
        app.include_router(router)

    @app.get("/metrics", include_in_schema=False)
    async def prometheus_metrics(request: Request) -> Response:
        pending, lag = await rt.events.outbox_stats()
        metrics.outbox_pending.set(pending)
        metrics.outbox_lag.set(lag)
        for queue, depth in (await rt.events.queue_depths()).items():
            metrics.queue_depth.labels(queue).set(depth)
        return Response(metrics.render(), media_type="text/plain; version=0.0.4")

    # Middleware order: the last added runs first. Observability wraps everything so that even
    # a 413 from the size limit is logged and counted with its request id.
    app.add_middleware(
        BodySizeLimitMiddleware,
        max_body=settings.max_body_bytes,
        max_upload=settings.max_upload_bytes,
    )
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_credentials=settings.cors_allow_credentials,
            allow_methods=["*"],
            allow_headers=["*"],
            expose_headers=[
                "X-Request-ID",
                "Retry-After",
                "RateLimit-Limit",
                "RateLimit-Remaining",
                "RateLimit-Reset",
            ],
        )
    app.add_middleware(
        ObservabilityMiddleware,
        metrics=metrics,
        tracer=tracer,
        problem_base=settings.effective_problem_base_url,
    )
    return app
