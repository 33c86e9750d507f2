"""Operational roles: ``serve`` (API), ``worker`` (event consumers), ``migrate``."""

from __future__ import annotations

import asyncio
import signal

import typer

ALL_QUEUES = "all"


def serve(
    host: str | None = typer.Option(None, help="Bind address [PYFORGE_HOST]."),
    port: int | None = typer.Option(None, help="Port [PYFORGE_PORT]."),
    workers: int | None = typer.Option(None, help="API processes [PYFORGE_API_WORKERS]."),
    reload: bool = typer.Option(False, help="Reload on code changes (development)."),
) -> None:
    """Run the API (and, on embedded defaults, the workers in-process)."""
    import uvicorn

    from pyforge.settings import get_settings

    settings = get_settings()
    bind_host, bind_port = host or settings.host, port or settings.port
    typer.echo(f"PyForge is serving on http://{bind_host}:{bind_port}  (docs: /docs)", err=True)
    uvicorn.run(
        "pyforge.app:create_app",
        factory=True,
        host=bind_host,
        port=bind_port,
        workers=workers or settings.api_workers,
        reload=reload,
        log_config=None,
        access_log=False,
        proxy_headers=True,
    )


def migrate(
    downgrade_to: str | None = typer.Option(
        None, "--downgrade", help="Revert to this revision instead ('base' empties the schema)."
    ),
) -> None:
    """Apply (or revert) the database migrations."""
    import pyforge.models  # noqa: F401
    from pyforge import db
    from pyforge.settings import get_settings

    kit = get_settings().kit()
    url = kit.effective_database_url
    try:
        if downgrade_to:
            db.downgrade(url, downgrade_to)
        else:
            db.upgrade(url)
    except Exception as exc:
        typer.echo(f"error: migration failed: {type(exc).__name__}: {exc}", err=True)
        raise typer.Exit(2) from None
    typer.echo(f"database migrated ({url.split('@')[-1]})", err=True)


async def _run_worker(groups: list[str] | None) -> None:
    from forgekit.runtime import freeze_startup_heap
    from pyforge.runtime import build_runtime
    from pyforge.settings import get_settings

    runtime = build_runtime(get_settings().kit())
    if groups:
        runtime.events.keep_only(groups)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await runtime.start(consume=True)
    freeze_startup_heap()
    typer.echo(f"consuming: {', '.join(sorted(runtime.events.subscriptions))}", err=True)
    try:
        await stop.wait()
    finally:
        await runtime.close()


def worker(
    queues: str = typer.Option(
        ALL_QUEUES, help="Comma-separated consumer groups to run (e.g. analysis,notify), or all."
    ),
    metrics_port: int | None = typer.Option(
        None,
        envvar="PYFORGE_WORKER_METRICS_PORT",
        min=1,
        max=65535,
        help="Serve Prometheus metrics (process, GC) on this port, so a dead worker shows as "
        "up == 0 [PYFORGE_WORKER_METRICS_PORT].",
    ),
) -> None:
    """Consume events (analysis, ML, notifications, audit, e-mail) until stopped."""
    groups = None if queues == ALL_QUEUES else [q.strip() for q in queues.split(",") if q.strip()]
    if metrics_port is not None:
        from prometheus_client import start_http_server

        # A daemon thread serving the default registry: the worker has no HTTP server of its
        # own, and Prometheus needs a target per worker to tell a dead one from an idle one.
        try:
            start_http_server(metrics_port)
        except OSError as exc:
            typer.echo(f"error: cannot serve metrics on port {metrics_port}: {exc}", err=True)
            raise typer.Exit(2) from None
    try:
        asyncio.run(_run_worker(groups))
    except ValueError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None


def register(app: typer.Typer) -> None:
    """Add the operational commands to the ``pyforge`` CLI."""
    app.command()(serve)
    app.command()(migrate)
    app.command()(worker)
