"""``shop train recs|fraud|sentiment|forecast``: one training run from the command line."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated, Any

import typer

from shop.ml.training.trainers import KINDS


def _csv(kind: str, data: Path) -> Any:
    from shop.ml.training.loaders import LOADERS

    return LOADERS[kind](data)


async def _run(kind: str, payload: Any, seed: int, synthetic_only: bool) -> str:
    from shop.ml.settings import MlSettings
    from shop.ml.training.data import synthetic
    from shop.ml.training.service import run_training
    from shop.ml.training.source import training_data
    from shop.product import PRODUCT

    settings = PRODUCT.settings()
    runtime = PRODUCT.build_runtime(settings.kit(), settings)
    try:
        async with runtime.db.transaction() as session:
            if payload is None and synthetic_only:
                payload = synthetic(kind, seed)
                payload.source = f"synthetic (seed {seed}): asked for"
            elif payload is None:
                minimum = MlSettings().min_shop_rows
                payload = await training_data(session, kind, seed=seed, minimum=minimum)
            run = await run_training(session, runtime.storage, kind, payload)
    finally:
        await runtime.close()
    source = payload.source or ("SYNTHETIC data" if run.synthetic else "the given table")
    compared = "no active version" if run.active_score is None else f"active {run.active_score:.4f}"
    return (f"{kind} v{run.version} on {source}: {run.primary_metric} {run.score:.4f} "
            f"({compared}) -> {run.outcome}")  # fmt: skip


def register(app: typer.Typer) -> None:
    """Add the ``train`` command to the shop CLI."""

    @app.command()
    def train(
        kind: Annotated[str, typer.Argument(help=f"One of: {', '.join(KINDS)}.")],
        data: Annotated[
            Path | None,
            typer.Option(
                help="CSV table of the kind's shape (default: the shop's "
                "tables, or the generator when they hold too little)."
            ),
        ] = None,
        seed: Annotated[int, typer.Option(help="Generator seed (synthetic data).")] = 0,
        synthetic: Annotated[
            bool, typer.Option("--synthetic", help="Train on the generator's data.")
        ] = False,
    ) -> None:
        """Train a model on the shop's data (the generator's when it holds too little), log
        the run, register it; promote it if it beats the active one."""
        if kind not in KINDS:
            typer.echo(f"error: unknown model kind {kind!r} (one of {', '.join(KINDS)})", err=True)
            raise typer.Exit(2)
        try:
            payload = None if data is None else _csv(kind, data)
        except (OSError, ValueError) as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(2) from None
        typer.echo(asyncio.run(_run(kind, payload, seed, synthetic)))
