"""The operational roles every product gets: ``serve`` (API), ``worker`` (consumers), ``migrate``.

A product's CLI is a typer app plus :func:`add_role_commands`; the commands read the product's
settings (``<PREFIX>_HOST``, ``_PORT``, ``_DATA_DIR``...) and the kit's (``FORGE_``).
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import typer

if TYPE_CHECKING:
    from forgekit.product import Product

ALL_QUEUES = "all"


def add_role_commands(
    app: typer.Typer, load_product: Callable[[], Product[Any, Any]], *, title: str, env_prefix: str
) -> None:
    """Add ``serve``, ``migrate`` and ``worker`` to ``app`` for the product ``load_product``
    returns; it is called only when a role command runs, so that the product's other commands
    (``pyforge analyze``) start without importing the web stack."""
    prefix = env_prefix

    def serve(
        host: str | None = typer.Option(None, help=f"Bind address [{prefix}HOST]."),
        port: int | None = typer.Option(None, help=f"Port [{prefix}PORT]."),
        workers: int | None = typer.Option(None, help=f"API processes [{prefix}API_WORKERS]."),
        reload: bool = typer.Option(False, help="Reload on code changes (development)."),
    ) -> None:
        """Run the API (and, on embedded defaults, the workers in-process)."""
        import uvicorn

        from forgekit.http_guard import HttpLimits, guarded_protocol

        product = load_product()
        settings = product.settings()
        kit = settings.kit()
        limits = HttpLimits(
            head_timeout_s=kit.http_head_timeout_s, max_head_bytes=kit.http_max_head_bytes,
            max_headers=kit.http_max_headers, body_timeout_s=kit.http_body_timeout_s,
            body_min_rate_bps=kit.http_body_min_rate_bps,
        )  # fmt: skip
        bind_host, bind_port = host or settings.host, port or settings.port
        typer.echo(
            f"{title} is serving on http://{bind_host}:{bind_port}  (docs: /docs)",
            err=True,
        )
        uvicorn.run(
            product.app_factory,
            factory=True,
            host=bind_host,
            port=bind_port,
            workers=workers or settings.api_workers,
            reload=reload,
            log_config=None,
            access_log=False,
            proxy_headers=True,
            # Slowloris and oversized heads are bounded per connection (forgekit.http_guard).
            http=guarded_protocol(limits),
            timeout_keep_alive=kit.http_keep_alive_s,
        )

    def migrate(
        downgrade_to: str | None = typer.Option(
            None, "--downgrade", help="Revert to this revision instead ('base' empties the schema)."
        ),
    ) -> None:
        """Apply (or revert) the database migrations."""
        product = load_product()
        url = product.settings().kit().effective_database_url
        try:
            if downgrade_to:
                product.downgrade(url, downgrade_to)
            else:
                product.upgrade(url)
        except Exception as exc:
            typer.echo(f"error: migration failed: {type(exc).__name__}: {exc}", err=True)
            raise typer.Exit(2) from None
        typer.echo(f"database migrated ({url.split('@')[-1]})", err=True)

    def worker(
        queues: str = typer.Option(
            ALL_QUEUES, help="Comma-separated consumer groups to run (e.g. analysis,notify) or all."
        ),
        metrics_port: int | None = typer.Option(
            None,
            envvar=f"{prefix}WORKER_METRICS_PORT",
            min=1,
            max=65535,
            help="Serve Prometheus metrics (process, GC) on this port, so a dead worker shows "
            f"as up == 0 [{prefix}WORKER_METRICS_PORT].",
        ),
    ) -> None:
        """Consume events until stopped (SIGINT/SIGTERM finish the running handlers first)."""
        groups = (
            None if queues == ALL_QUEUES else [q.strip() for q in queues.split(",") if q.strip()]
        )
        if metrics_port is not None:
            _serve_worker_metrics(metrics_port)
        try:
            asyncio.run(run_worker(load_product(), groups))
        except ValueError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(2) from None

    app.command()(serve)
    app.command()(migrate)
    app.command()(worker)


def _serve_worker_metrics(port: int) -> None:
    from prometheus_client import start_http_server

    # A daemon thread serving the default registry: the worker has no HTTP server of its own,
    # and Prometheus needs a target per worker to tell a dead one from an idle one.
    try:
        start_http_server(port)
    except OSError as exc:
        typer.echo(f"error: cannot serve metrics on port {port}: {exc}", err=True)
        raise typer.Exit(2) from None


async def run_worker(product: Product[Any, Any], groups: list[str] | None) -> None:
    """Run ``product``'s consumers (``groups`` of them, or all) until SIGINT or SIGTERM."""
    from forgekit.runtime import freeze_startup_heap

    settings = product.settings()
    runtime = product.build_runtime(settings.kit(), settings)
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
