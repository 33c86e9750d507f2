"""Liveness, readiness and health endpoints.

``/live`` says the process serves requests; ``/ready`` says its backends answer (database,
cache, broker) so a load balancer may route to it; ``/health/detailed`` shows each check with
its latency for humans.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from forgekit import __version__

CHECK_TIMEOUT_S = 3.0

router = APIRouter(tags=["health"])


async def _timed(check: Callable[[], Awaitable[Any]]) -> dict[str, Any]:
    start = time.perf_counter()
    try:
        answer = await asyncio.wait_for(check(), CHECK_TIMEOUT_S)
        if answer is False:
            raise ConnectionError("no answer")
    except Exception as exc:
        return {
            "status": "down",
            "error": f"{type(exc).__name__}: {exc}"[:200],
            "latency_ms": round((time.perf_counter() - start) * 1000, 2),
        }
    return {"status": "up", "latency_ms": round((time.perf_counter() - start) * 1000, 2)}


async def run_checks(request: Request) -> dict[str, dict[str, Any]]:
    """Run every backend check concurrently."""
    runtime = request.app.state.runtime
    checks: dict[str, Callable[[], Awaitable[Any]]] = {
        "database": runtime.db.ping,
        "cache": runtime.cache.ping,
        "broker": runtime.events.ping,
    }
    results = await asyncio.gather(*(_timed(fn) for fn in checks.values()))
    return dict(zip(checks, results, strict=True))


@router.get("/live", summary="Liveness probe")
async def live() -> dict[str, str]:
    """The process is up and serving."""
    return {"status": "ok"}


def _ok(results: dict[str, dict[str, Any]]) -> bool:
    return all(r["status"] == "up" for r in results.values())


def _verdict(results: dict[str, dict[str, Any]], body: dict[str, Any]) -> JSONResponse:
    # 200 only when every backend answered; load balancers and probes read the status code.
    if _ok(results):
        return JSONResponse(body)
    return JSONResponse(body, status_code=503, headers={"Retry-After": "5"})


@router.get("/health", summary="Health summary")
async def health(request: Request) -> JSONResponse:
    """Overall status (ok/degraded) without details of each backend."""
    results = await run_checks(request)
    status = "ok" if _ok(results) else "degraded"
    return _verdict(results, {"status": status, "version": __version__})


@router.get("/health/detailed", summary="Health of each backend")
async def health_detailed(request: Request) -> JSONResponse:
    """Each backend check with its status and latency, and the outbox backlog."""
    results = await run_checks(request)
    runtime = request.app.state.runtime
    pending, lag = await runtime.events.outbox_stats()
    body = {
        "status": "ok" if _ok(results) else "degraded",
        "version": __version__,
        "embedded": runtime.settings.embedded,
        "checks": results,
        "outbox": {"pending": pending, "oldest_age_s": round(lag, 3)},
    }
    return _verdict(results, body)


@router.get("/ready", summary="Readiness probe")
async def ready(request: Request) -> JSONResponse:
    """Ready when the database, cache and broker all answer."""
    results = await run_checks(request)
    status = "ready" if _ok(results) else "not_ready"
    return _verdict(results, {"status": status, "checks": results})
